//! Shared by the binary fuzz targets: wrap fuzz bytes as one section of an
//! otherwise valid ELF64 little-endian executable, so the section parsers
//! are reached without the fuzzer having to discover the ELF format.

/// `data` as section `name`, also mapped by a writable `PT_LOAD` segment at
/// virtual address `0x10000` (so pointers inside it can resolve).
pub fn wrap(name: &str, data: &[u8]) -> Vec<u8> {
    const VADDR: u64 = 0x10000;
    let data_off = 128u64;
    let mut out = vec![0u8; 128];
    out.extend_from_slice(data);
    while out.len() % 8 != 0 {
        out.push(0);
    }
    let mut shstrtab = vec![0u8];
    shstrtab.extend_from_slice(name.as_bytes());
    shstrtab.push(0);
    let shstr_name = shstrtab.len() as u32;
    shstrtab.extend_from_slice(b".shstrtab\0");
    let shstr_off = out.len() as u64;
    out.extend_from_slice(&shstrtab);
    while out.len() % 8 != 0 {
        out.push(0);
    }
    let shoff = out.len() as u64;
    let mut sh = |name: u32, kind: u32, addr: u64, off: u64, size: u64| {
        out.extend_from_slice(&name.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
        out.extend_from_slice(&addr.to_le_bytes());
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&1u64.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
    };
    sh(0, 0, 0, 0, 0);
    sh(1, 1, VADDR, data_off, data.len() as u64);
    sh(shstr_name, 3, 0, shstr_off, shstrtab.len() as u64);
    let mut h = Vec::with_capacity(128);
    h.extend_from_slice(b"\x7fELF\x02\x01\x01");
    h.resize(16, 0);
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&62u16.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes());
    h.extend_from_slice(&0u64.to_le_bytes()); // entry
    h.extend_from_slice(&64u64.to_le_bytes()); // phoff
    h.extend_from_slice(&shoff.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    for v in [64u16, 56, 1, 64, 3, 2] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    // One PT_LOAD, read + write.
    h.extend_from_slice(&1u32.to_le_bytes());
    h.extend_from_slice(&6u32.to_le_bytes());
    for v in [
        data_off,
        VADDR,
        VADDR,
        data.len() as u64,
        data.len() as u64,
        16,
    ] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    if let Some(head) = out.get_mut(..h.len()) {
        head.copy_from_slice(&h);
    }
    out
}
