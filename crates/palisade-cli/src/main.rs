//! `palisade`: one binary, a subcommand per role. This crate only parses
//! arguments and wires the library crates together.

mod cmd;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

/// Exit codes of the contract.
pub(crate) const EXIT_FINDINGS: u8 = 1;
pub(crate) const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            // `palisade … | head`: the reader left; that is not an error.
            ExitCode::SUCCESS
        }
        Err(e) => {
            // One line that names the input, as the contract asks.
            let mut msg = e.to_string();
            for cause in e.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg.push_str(": ");
                    msg.push_str(&c);
                }
            }
            eprintln!("palisade: error: {}", msg.replace('\n', " "));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = if quiet {
        "error"
    } else {
        match verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PALISADE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
