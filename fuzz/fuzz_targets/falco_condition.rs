//! Falco condition parser (palisade-rules): parse arbitrary text, then load it as a rule
//! condition, compile it permissively and evaluate it, checking error offsets stay in bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_rules::condition::{parse_condition, parse_operand};
use palisade_rules::{CompileOptions, Event, FieldBuf, FieldId, Loader, RuleSet, Value};

/// Every field is present: even ids are strings, odd ids lists.
struct AnyEvent;

impl Event for AnyEvent {
    fn get<'a>(&'a self, field: FieldId, buf: &'a mut FieldBuf) -> Option<Value<'a>> {
        if field.0 % 2 == 0 {
            Some(Value::Str("/usr/bin/bash"))
        } else {
            buf.clear();
            buf.push_item("a");
            buf.push_item("/etc/passwd");
            Some(Value::List(buf.list()))
        }
    }

    fn event_type(&self) -> Option<&str> {
        Some("execve")
    }
}

/// `text` as a YAML double-quoted scalar.
fn yaml_quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if !matches!(c, '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..) => {
                out.push_str(&format!("\\U{:08x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_condition(text) {
        Ok(_) => {}
        Err(e) => {
            assert!(e.offset <= text.len());
            let _ = e.excerpt(text);
        }
    }
    let _ = parse_operand(text);

    let yaml = format!(
        "- list: l\n  items: [a, '\"b c\"']\n- macro: m\n  condition: {}\n- rule: r\n  desc: d\n  condition: m\n  output: \"%proc.name %fd.name[x]\"\n  priority: INFO\n",
        yaml_quote(text)
    );
    let mut loader = Loader::new();
    if loader.load_str("fuzz.yaml", &yaml).is_err() {
        return;
    }
    let Ok(loaded) = loader.finish() else { return };
    let Ok((set, _)) = RuleSet::compile(&loaded, &mut [], &CompileOptions::new().permissive(true))
    else {
        return;
    };
    for m in set.evaluate("syscall", &AnyEvent) {
        let _ = m.rule().alert(&AnyEvent, "t");
    }
});
