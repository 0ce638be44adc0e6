//! NumPy `.npy` files of the two dtypes a layer directory holds: `int8` (`|i1`) and
//! little-endian `int32` (`<i4`), C order, format versions 1.0 and 2.0 (3.0 differs only in
//! the header's text encoding, which is ASCII here anyway, so it is read too).
//!
//! The format: magic `\x93NUMPY`, major and minor version bytes, the header length (u16 in
//! 1.0, u32 from 2.0 on, little-endian), the header — a Python dict literal
//! `{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }` padded with spaces and a
//! newline — then the raw elements. Hand-written because these few cases are all the CLI needs
//! and every malformed file must become an error that says what is wrong, never a panic.

const MAGIC: &[u8] = b"\x93NUMPY";

/// The element types supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    I8,
    I32,
}

impl Dtype {
    fn descr(self) -> &'static str {
        match self {
            Dtype::I8 => "|i1",
            Dtype::I32 => "<i4",
        }
    }
    fn size(self) -> usize {
        match self {
            Dtype::I8 => 1,
            Dtype::I32 => 4,
        }
    }
    /// The numpy name, as a user writes it (`np.int8`).
    pub fn name(self) -> &'static str {
        match self {
            Dtype::I8 => "int8",
            Dtype::I32 => "int32",
        }
    }
}

/// The elements of an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    I8(Vec<i8>),
    I32(Vec<i32>),
}

/// A parsed array: its shape (C order) and elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Data,
}

impl Array {
    /// The int8 elements, or an error naming the dtype found.
    pub fn into_i8(self) -> Result<Vec<i8>, String> {
        match self.data {
            Data::I8(v) => Ok(v),
            Data::I32(_) => Err("dtype is int32 ('<i4'), expected int8 ('|i1'): use .astype(np.int8)".into()),
        }
    }

    /// The int32 elements, or an error naming the dtype found.
    pub fn into_i32(self) -> Result<Vec<i32>, String> {
        match self.data {
            Data::I32(v) => Ok(v),
            Data::I8(_) => Err("dtype is int8 ('|i1'), expected int32 ('<i4'): use .astype(np.int32)".into()),
        }
    }
}

/// The bytes of a version 1.0 `.npy` file (2.0 when the header needs more than 65535 bytes,
/// which these shapes never do).
pub fn write(shape: &[usize], data: &Data) -> Vec<u8> {
    let dtype = match data {
        Data::I8(_) => Dtype::I8,
        Data::I32(_) => Dtype::I32,
    };
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    // A one-element tuple needs its trailing comma: `(3,)`.
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {tuple}, }}",
        dtype.descr()
    );
    // Pad so the data starts on a multiple of 64 bytes, as numpy does.
    let prefix = MAGIC.len() + 2 + 2;
    let total = (prefix + header.len() + 1).div_ceil(64) * 64;
    header.push_str(&" ".repeat(total - prefix - header.len() - 1));
    header.push('\n');
    let mut out = Vec::with_capacity(total + shape.iter().product::<usize>() * dtype.size());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    match data {
        Data::I8(v) => out.extend(v.iter().map(|&x| x as u8)),
        Data::I32(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
    }
    out
}

/// Parses a whole `.npy` file. The error says what is wrong, without the file name.
pub fn parse(bytes: &[u8]) -> Result<Array, String> {
    if bytes.len() < MAGIC.len() + 2 || &bytes[..MAGIC.len()] != MAGIC {
        return Err("not a .npy file (no \\x93NUMPY magic)".into());
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (len_bytes, header_start) = match major {
        1 => (2, 10),
        2 | 3 => (4, 12),
        _ => return Err(format!(".npy format version {major}.{minor} is not supported (1.0, 2.0, 3.0 are)")),
    };
    if bytes.len() < header_start {
        return Err("file ends inside the header length".into());
    }
    let mut len = [0u8; 4];
    len[..len_bytes].copy_from_slice(&bytes[8..8 + len_bytes]);
    let header_len = u32::from_le_bytes(len) as usize;
    let data_start = header_start
        .checked_add(header_len)
        .filter(|&end| end <= bytes.len())
        .ok_or("file ends inside the header")?;
    let header = std::str::from_utf8(&bytes[header_start..data_start])
        .map_err(|_| "header is not text".to_string())?;
    let (descr, fortran, shape) = parse_header(header)?;
    let dtype = match descr.as_str() {
        "|i1" | "<i1" | "i1" => Dtype::I8,
        "<i4" => Dtype::I32,
        other => {
            return Err(format!(
                "dtype '{other}' is not supported (int8 '|i1' and little-endian int32 '<i4' are)"
            ))
        }
    };
    if fortran {
        return Err("fortran_order is True; write the array in C order".into());
    }
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or("shape has too many elements")?;
    let body = &bytes[data_start..];
    let expected = count.checked_mul(dtype.size()).ok_or("shape has too many elements")?;
    if body.len() != expected {
        return Err(format!(
            "shape {shape:?} of {} needs {expected} data bytes, the file has {}",
            dtype.name(),
            body.len()
        ));
    }
    let data = match dtype {
        Dtype::I8 => Data::I8(body.iter().map(|&b| b as i8).collect()),
        Dtype::I32 => Data::I32(
            body.chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
    };
    Ok(Array { shape, data })
}

/// `descr`, `fortran_order` and `shape` of the header dict.
fn parse_header(header: &str) -> Result<(String, bool, Vec<usize>), String> {
    let bad = |what: &str| format!("malformed header ({what}): {}", header.trim_end());
    let body = header
        .trim()
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or_else(|| bad("not a dict"))?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    let mut rest = body.trim_start();
    while !rest.is_empty() {
        let (key, after) = quoted(rest).ok_or_else(|| bad("expected a quoted key"))?;
        let after = after.trim_start().strip_prefix(':').ok_or_else(|| bad("expected ':'"))?;
        let after = after.trim_start();
        let after = match key {
            "descr" => {
                let (v, a) = quoted(after).ok_or_else(|| bad("descr is not a string"))?;
                descr = Some(v.to_string());
                a
            }
            "fortran_order" => {
                let (v, a) = if let Some(a) = after.strip_prefix("False") {
                    (false, a)
                } else if let Some(a) = after.strip_prefix("True") {
                    (true, a)
                } else {
                    return Err(bad("fortran_order is not True or False"));
                };
                fortran = Some(v);
                a
            }
            "shape" => {
                let close = after.find(')').ok_or_else(|| bad("shape is not a tuple"))?;
                let inner = after.strip_prefix('(').ok_or_else(|| bad("shape is not a tuple"))?;
                let inner = &inner[..close - 1];
                let dims = inner
                    .split(',')
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(|d| d.trim_end_matches('L').parse::<usize>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| bad("shape has a non-integer dimension"))?;
                shape = Some(dims);
                &after[close + 1..]
            }
            other => return Err(bad(&format!("unknown key '{other}'"))),
        };
        let after = after.trim_start();
        rest = match after.strip_prefix(',') {
            Some(a) => a.trim_start(),
            None if after.is_empty() => after,
            None => return Err(bad("expected ',' between entries")),
        };
    }
    match (descr, fortran, shape) {
        (Some(d), Some(f), Some(s)) => Ok((d, f, s)),
        _ => Err(bad("descr, fortran_order and shape are all required")),
    }
}

/// A `'…'` or `"…"` string at the start of `s` and what follows it.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let q = s.chars().next().filter(|&c| c == '\'' || c == '"')?;
    let end = s[1..].find(q)? + 1;
    Some((&s[1..end], &s[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file with `header` (a dict literal) and `body`, in version `major`.
    fn file(major: u8, header: &str, body: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[major, 0]);
        match major {
            1 => out.extend_from_slice(&(header.len() as u16).to_le_bytes()),
            _ => out.extend_from_slice(&(header.len() as u32).to_le_bytes()),
        }
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn round_trips_both_dtypes() {
        let a = Data::I8(vec![-128, -1, 0, 1, 127, 5]);
        let bytes = write(&[1, 2, 3], &a);
        // numpy aligns the data to 64 bytes and ends the header with a newline.
        assert_eq!((bytes.len() - 6) % 64, 0);
        assert_eq!(bytes[bytes.len() - 7], b'\n');
        assert_eq!(parse(&bytes).unwrap(), Array { shape: vec![1, 2, 3], data: a });
        let b = Data::I32(vec![i32::MIN, -1, 0, 7, i32::MAX]);
        let bytes = write(&[5], &b);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("'shape': (5,)") && text.contains("'<i4'"), "{text}");
        assert_eq!(parse(&bytes).unwrap(), Array { shape: vec![5], data: b });
    }

    #[test]
    fn reads_version_2_and_numpy_spellings() {
        // Key order, quotes and spacing as other writers use them; a 0-d shape `()`.
        let h = "{\"shape\": (2, 1), \"fortran_order\": False, \"descr\": \"<i1\"}\n";
        let a = parse(&file(2, h, &[0xff, 3])).unwrap();
        assert_eq!(a, Array { shape: vec![2, 1], data: Data::I8(vec![-1, 3]) });
        let h = "{'descr': '<i4', 'fortran_order': False, 'shape': (), }";
        let a = parse(&file(1, h, &7i32.to_le_bytes())).unwrap();
        assert_eq!(a, Array { shape: vec![], data: Data::I32(vec![7]) });
    }

    #[test]
    fn dtype_accessors_name_the_mismatch() {
        let a = parse(&write(&[1], &Data::I32(vec![1]))).unwrap();
        assert!(a.clone().into_i8().unwrap_err().contains("expected int8"));
        assert_eq!(a.into_i32().unwrap(), vec![1]);
    }

    fn err(bytes: &[u8]) -> String {
        parse(bytes).unwrap_err()
    }

    #[test]
    fn every_malformed_file_is_an_error() {
        let good = "{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }";
        assert!(parse(&file(1, good, &[1, 2])).is_ok());
        // Not npy at all, and an empty file.
        assert!(err(b"PK\x03\x04 a zip").contains("magic"));
        assert!(err(b"").contains("magic"));
        // Unknown version.
        assert!(err(&file(4, good, &[1, 2])).contains("version 4.0"));
        // Truncated: inside the length, inside the header.
        assert!(err(&MAGIC.iter().copied().chain([2, 0, 10]).collect::<Vec<_>>()).contains("header length"));
        let mut cut = file(1, good, &[]);
        cut.truncate(20);
        assert!(err(&cut).contains("inside the header"));
        // Data too short, too long.
        assert!(err(&file(1, good, &[1])).contains("needs 2 data bytes, the file has 1"));
        assert!(err(&file(1, good, &[1, 2, 3])).contains("the file has 3"));
        // Unsupported dtypes: float, big-endian int32, int16, uint8.
        for d in ["<f4", ">i4", "<i2", "|u1"] {
            let h = good.replace("|i1", d);
            assert!(err(&file(1, &h, &[0; 8])).contains(&format!("dtype '{d}'")), "{d}");
        }
        // Fortran order.
        let h = good.replace("False", "True");
        assert!(err(&file(1, &h, &[1, 2])).contains("fortran_order"));
        // Broken dicts.
        for (h, what) in [
            ("'descr': '|i1'", "not a dict"),
            ("{'descr': '|i1', 'fortran_order': False}", "required"),
            ("{'descr': '|i1', 'fortran_order': Maybe, 'shape': (2,)}", "True or False"),
            ("{'descr': '|i1', 'fortran_order': False, 'shape': (2, x)}", "non-integer"),
            ("{'descr': '|i1', 'fortran_order': False, 'shape': 2}", "tuple"),
            ("{'descr': |i1, 'fortran_order': False, 'shape': (2,)}", "not a string"),
            ("{'descr': '|i1' 'fortran_order': False, 'shape': (2,)}", "','"),
            ("{'descr' '|i1'}", "':'"),
            ("{descr: '|i1'}", "quoted key"),
            ("{'descr': '|i1', 'fortran_order': False, 'shape': (2,), 'extra': 1}", "unknown key"),
        ] {
            let e = err(&file(1, h, &[1, 2]));
            assert!(e.contains(what), "{h}: {e}");
        }
        // A header that is not text.
        let mut bin = file(1, "{'d'}", &[]);
        bin[10] = 0xff;
        assert!(err(&bin).contains("not text"));
        // A shape whose element count overflows.
        let h = format!("{{'descr': '<i4', 'fortran_order': False, 'shape': ({}, {}), }}", usize::MAX, 2);
        assert!(err(&file(1, &h, &[])).contains("too many elements"));
    }
}
