//! Running helper programs (`skopeo`, `openssl`, `htpasswd`, `curl`) with
//! their output captured into errors.

use std::process::{Command, Output};

use crate::error::{Error, Result};

/// Render a command line for error messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

/// Run `cmd` to completion; a non-zero exit is an [`Error::Command`].
pub(crate) fn run(cmd: &mut Command) -> Result<Output> {
    let output = cmd.output().map_err(|source| Error::Spawn {
        program: cmd.get_program().to_string_lossy().into_owned(),
        source,
    })?;
    if output.status.success() {
        Ok(output)
    } else {
        let mut stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        stderr.push_str(&String::from_utf8_lossy(&output.stdout));
        Err(Error::Command {
            command: describe(cmd),
            status: output.status.to_string(),
            stderr,
        })
    }
}

/// Like [`run`], with `input` written to the program's standard input.
pub(crate) fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Result<Output> {
    use std::io::Write as _;
    use std::process::Stdio;

    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: cmd.get_program().to_string_lossy().into_owned(),
            source,
        })?;
    let program = cmd.get_program().to_string_lossy().into_owned();
    if let Some(mut stdin) = child.stdin.take() {
        // A program that exits without reading reports its own error below.
        let _ = stdin.write_all(input);
    }
    let output = child
        .wait_with_output()
        .map_err(|source| Error::Spawn { program, source })?;
    if output.status.success() {
        Ok(output)
    } else {
        let mut stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        stderr.push_str(&String::from_utf8_lossy(&output.stdout));
        Err(Error::Command {
            command: describe(cmd),
            status: output.status.to_string(),
            stderr,
        })
    }
}
