//! Print every field of every event in the given files (development aid).

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    for e in palisade_audit::scan_files(&paths) {
        let Ok(e) = e else { continue };
        println!("== {:?}", e.origin());
        for info in palisade_audit::FIELDS {
            let arg = match info.arg {
                palisade_audit::fields::ArgKind::Key | palisade_audit::fields::ArgKind::Pointer => {
                    continue
                }
                _ => None,
            };
            let Ok(f) = palisade_audit::AuditField::resolve(info.name, arg) else {
                continue;
            };
            if let Some(v) = e.field(&f) {
                println!("{} = {}", info.name, v);
            }
        }
    }
}
