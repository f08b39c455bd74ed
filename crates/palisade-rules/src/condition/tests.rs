use super::*;

fn p(s: &str) -> Expr {
    match parse_condition(s) {
        Ok(e) => e,
        Err(e) => panic!("{s:?}: {e}"),
    }
}

fn err(s: &str) -> ParseError {
    match parse_condition(s) {
        Ok(e) => panic!("{s:?} parsed: {e:?}"),
        Err(e) => e,
    }
}

fn check(e: &Expr) -> &Check {
    match e {
        Expr::Check(c) => c,
        other => panic!("not a check: {other:?}"),
    }
}

fn field(o: &Operand) -> (&str, Option<&str>) {
    let f = o.field();
    (f.name.as_str(), f.arg.as_deref())
}

fn lit(c: &Check) -> (&str, bool) {
    match &c.rhs {
        Some(Rhs::Value(l)) => (l.text.as_str(), l.quoted),
        other => panic!("not a value: {other:?}"),
    }
}

fn list(c: &Check) -> Vec<(&str, bool)> {
    match &c.rhs {
        Some(Rhs::List(l)) => l
            .items
            .iter()
            .map(|i| (i.text.as_str(), i.quoted))
            .collect(),
        other => panic!("not a list: {other:?}"),
    }
}

#[test]
fn every_operator() {
    let ops = [
        ("=", Op::Eq),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        ("<=", Op::Le),
        (">", Op::Gt),
        (">=", Op::Ge),
        ("contains", Op::Contains),
        ("icontains", Op::IContains),
        ("bcontains", Op::BContains),
        ("startswith", Op::StartsWith),
        ("bstartswith", Op::BStartsWith),
        ("endswith", Op::EndsWith),
        ("glob", Op::Glob),
        ("iglob", Op::IGlob),
        ("regex", Op::Regex),
    ];
    for (text, op) in ops {
        let e = p(&format!("fd.name {text} abc"));
        let c = check(&e);
        assert_eq!(c.op, op, "{text}");
        assert_eq!(lit(c), ("abc", false));
        // Symbolic operators need no blanks.
        if !text.chars().all(|c| c.is_ascii_alphabetic()) {
            let e = p(&format!("fd.name{text}abc"));
            assert_eq!(check(&e).op, op);
        }
    }
    for (text, op) in [
        ("in", Op::In),
        ("intersects", Op::Intersects),
        ("pmatch", Op::PMatch),
    ] {
        let e = p(&format!("fd.name {text} (a, b)"));
        let c = check(&e);
        assert_eq!(c.op, op);
        assert_eq!(list(c), vec![("a", false), ("b", false)]);
    }
    let e = p("k8s.pod.name exists");
    let c = check(&e);
    assert_eq!(c.op, Op::Exists);
    assert!(c.rhs.is_none());
}

#[test]
fn boolean_structure_and_precedence() {
    // and binds tighter than or; not tighter than and.
    let e = p("a.x=1 or b.y=2 and not c.z=3");
    let Expr::Or(v) = &e else { panic!("{e:?}") };
    assert_eq!(v.len(), 2);
    let Some(Expr::And(w)) = v.get(1) else {
        panic!("{v:?}")
    };
    assert!(matches!(w.get(1), Some(Expr::Not(..))));

    let e = p("(a.x=1 or b.y=2) and c.z=3");
    let Expr::And(v) = &e else { panic!("{e:?}") };
    assert!(matches!(v.first(), Some(Expr::Or(_))));

    // Chains flatten.
    let e = p("a.b=1 and a.b=2 and a.b=3 and a.b=4");
    let Expr::And(v) = &e else { panic!() };
    assert_eq!(v.len(), 4);

    // not(…) and nested parentheses, keywords need a boundary.
    assert!(matches!(p("not(a.b=1)"), Expr::Not(..)));
    assert!(matches!(p("not not a.b=1"), Expr::Not(..)));
    assert!(matches!(p("((((a.b=1))))"), Expr::Check(_)));
    let e = p("andmacro or ormacro and notmacro");
    let mut names = Vec::new();
    e.for_each_macro(&mut |i| names.push(i.name.clone()));
    assert_eq!(names, ["andmacro", "ormacro", "notmacro"]);
    // Multi-line conditions as YAML folds them.
    assert!(matches!(p("a.b=1\n  and\n\tb.c=2\r\n"), Expr::And(_)));
}

#[test]
fn macros_are_bare_identifiers() {
    let e = p("spawned_process and not shell_procs");
    let Expr::And(v) = &e else { panic!() };
    let Some(Expr::Macro(id)) = v.first() else {
        panic!()
    };
    assert_eq!(id.name, "spawned_process");
    assert_eq!(id.span, Span::new(0, 15));
}

#[test]
fn fields_with_arguments() {
    let e = p("proc.aname[2] = bash");
    assert_eq!(field(&check(&e).lhs), ("proc.aname", Some("2")));
    let e = p("jevt.value[/annotations/authorization.k8s.io~1decision] exists");
    assert_eq!(
        field(&check(&e).lhs),
        (
            "jevt.value",
            Some("/annotations/authorization.k8s.io~1decision")
        )
    );
    let e = p("ka.req.volume.hostpath[/proc*]=true");
    let c = check(&e);
    assert_eq!(field(&c.lhs), ("ka.req.volume.hostpath", Some("/proc*")));
    assert_eq!(lit(c), ("true", false));
    let e = p("k8s.pod.label[\"app name\"] = x");
    assert_eq!(field(&check(&e).lhs), ("k8s.pod.label", Some("app name")));
    let e = p("ka.req.binding.subject.has_name[cluster-admin] = true");
    assert_eq!(
        field(&check(&e).lhs),
        ("ka.req.binding.subject.has_name", Some("cluster-admin"))
    );
    assert_eq!(check(&e).lhs.field().span, Span::new(0, 46));
}

#[test]
fn values_quoting_and_numbers() {
    let e = p(r#"proc.cmdline contains "-c \"x\" \\ y""#);
    assert_eq!(lit(check(&e)), (r#"-c "x" \ y"#, true));
    let e = p(r"fd.name = 'it\'s'");
    assert_eq!(lit(check(&e)), ("it's", true));
    let e = p(r#"fd.name regex "\d+\.txt""#);
    assert_eq!(
        lit(check(&e)),
        (r"\d+\.txt", true),
        "unknown escapes are kept"
    );
    let e = p(r#"fd.name contains "a\tb\x41""#);
    assert_eq!(lit(check(&e)), ("a\tbA", true));
    for (src, v) in [
        ("fd.num>=0", "0"),
        ("evt.num = -12", "-12"),
        ("fd.num = 0x1F", "0x1F"),
        ("fd.sip = 10.0.0.1", "10.0.0.1"),
        ("fd.net = 10.0.0.0/8", "10.0.0.0/8"),
        ("evt.dir=<", "<"),
        ("ka.uri=/healthz", "/healthz"),
        ("ka.user.name=system:anonymous", "system:anonymous"),
        ("fd.typechar='f'", "f"),
        ("x.y = 1.5e+3", "1.5e+3"),
    ] {
        assert_eq!(lit(check(&p(src))).0, v, "{src}");
    }
    // A bare value stops at a closing parenthesis.
    let e = p("(evt.dir=<)");
    assert_eq!(lit(check(&e)).0, "<");
}

#[test]
fn lists_inline_and_named() {
    let e = p(r#"proc.name in (bash, "c d", 'e,f', shell_binaries)"#);
    assert_eq!(
        list(check(&e)),
        vec![
            ("bash", false),
            ("c d", true),
            ("e,f", true),
            ("shell_binaries", false)
        ]
    );
    let e = p("proc.name in ()");
    assert!(list(check(&e)).is_empty());
    let e = p("proc.name in(a,b)");
    assert_eq!(list(check(&e)).len(), 2);
    let e = p("ka.req.role.rules.verbs intersects (\"*\")");
    assert_eq!(list(check(&e)), vec![("*", true)]);
}

#[test]
fn transformers_and_val() {
    let e = p("tolower(proc.name) = bash");
    let c = check(&e);
    let Operand::Transform { func, inner, .. } = &c.lhs else {
        panic!()
    };
    assert_eq!(*func, Transformer::ToLower);
    assert_eq!(field(inner), ("proc.name", None));

    for (name, t) in [
        ("toupper", Transformer::ToUpper),
        ("b64", Transformer::B64),
        ("basename", Transformer::Basename),
        ("len", Transformer::Len),
    ] {
        let e = p(&format!("{name}(proc.args) = x"));
        let Operand::Transform { func, .. } = &check(&e).lhs else {
            panic!()
        };
        assert_eq!(*func, t);
    }
    // Nested.
    let e = p("toupper(basename(proc.exepath)) = CAT");
    let Operand::Transform { inner, .. } = &check(&e).lhs else {
        panic!()
    };
    assert!(matches!(
        **inner,
        Operand::Transform {
            func: Transformer::Basename,
            ..
        }
    ));

    let e = p("proc.name = val(proc.pname)");
    let Some(Rhs::Field(Operand::Field(f))) = &check(&e).rhs else {
        panic!("{e:?}")
    };
    assert_eq!(f.name, "proc.pname");
    let e = p("tolower(proc.name) = tolower(proc.pname)");
    assert!(matches!(
        &check(&e).rhs,
        Some(Rhs::Field(Operand::Transform { .. }))
    ));
    let e = p("tolower(proc.name) = tolower(val(proc.pname))");
    assert!(matches!(
        &check(&e).rhs,
        Some(Rhs::Field(Operand::Transform { .. }))
    ));
    let e = p("len(proc.args) > 3");
    assert_eq!(lit(check(&e)), ("3", false));
}

#[test]
fn error_positions() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "empty"),
        ("proc.name = bash and", 20, "end of input"),
        ("(proc.name = bash", 0, "unbalanced `(`"),
        ("proc.name = bash)", 16, "unbalanced `)`"),
        ("proc.name in (a, b", 13, "unbalanced `(` in list"),
        ("proc.name in (a b)", 16, "expected `,` or `)`"),
        ("proc.name ~ bash", 10, "expected a comparison operator"),
        ("proc.name like bash", 10, "expected a comparison operator"),
        ("proc.name =", 10, "expected a value"),
        ("proc.name = \"abc", 12, "unterminated quoted string"),
        ("proc.name in bash", 13, "takes a list"),
        ("proc.name = (a, b)", 12, "single value"),
        ("proc = bash", 0, "not a field name"),
        ("proc.name = a or or b.c = 1", 17, "unexpected `or`"),
        ("proc.name = a and )", 18, "unexpected `)`"),
        ("foo(proc.name) = 1", 3, "expected `and`, `or`"),
        ("tolower(proc.name = 1", 0, "unbalanced `(` in `tolower(`"),
        ("proc.aname[2 = x", 10, "unterminated field argument"),
        ("a.b = 1 c.d = 2", 8, "expected `and`, `or`"),
        ("and", 0, "unexpected `and`"),
        ("proc.name = val(proc.pname", 12, "unbalanced `(` in `val(`"),
        (r#"fd.name = "\x4""#, 11, "two hex digits"),
    ];
    for (src, offset, msg) in cases {
        let e = err(src);
        assert!(e.message.contains(msg), "{src:?}: {e}");
        assert_eq!(e.offset, *offset, "{src:?}: {e}");
    }
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{}a.b=1{}", "(".repeat(100_000), ")".repeat(100_000));
    let e = err(&deep);
    assert!(e.message.contains("nesting"), "{e}");
    let nots = format!("{}a.b=1", "not ".repeat(100_000));
    assert!(err(&nots).message.contains("nesting"));
    let tr = format!(
        "{}proc.name{} = x",
        "tolower(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(err(&tr).message.contains("nesting"));
    let ok = format!("{}a.b=1{}", "(".repeat(99), ")".repeat(99));
    assert!(parse_condition(&ok).is_ok());
    assert!(parse_condition_with_depth(&ok, 10).is_err());
}

#[test]
fn operands_and_unquote() {
    assert!(matches!(
        parse_operand("proc.aname[2]"),
        Ok(Operand::Field(_))
    ));
    assert!(matches!(
        parse_operand(" tolower(fd.name) "),
        Ok(Operand::Transform { .. })
    ));
    assert!(parse_operand("proc.name = x").is_err());
    assert_eq!(unquote("\"(systemd)\"").as_deref(), Some("(systemd)"));
    assert_eq!(unquote("'a b'").as_deref(), Some("a b"));
    assert_eq!(unquote("plain"), None);
    assert_eq!(unquote("\"a\" b"), None);
}

#[test]
fn unicode_does_not_split_chars() {
    let e = p("proc.name = héllo and fd.name contains \"日本\"");
    let Expr::And(v) = &e else { panic!() };
    let Some(Expr::Check(c)) = v.first() else {
        panic!()
    };
    assert_eq!(lit(c).0, "héllo");
    let e = err("proc.name = é)");
    assert_eq!(e.offset, 14);
    assert_eq!(e.excerpt("proc.name = é)"), ")");
}
