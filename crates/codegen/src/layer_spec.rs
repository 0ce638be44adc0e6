//! The `--layer` string: `df=112,m=32,n=64,dk=3,stride=1` describes one DSC layer (`df` is the
//! input size; the stride applies to the depthwise conv). Every key is required, once.

use crate::error::CliError;

/// The keys, in the order they are reported.
pub const KEYS: [&str; 5] = ["df", "m", "n", "dk", "stride"];

/// A parsed `--layer` string; the model validates the values themselves (zero, even Dk, stride).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerSpec {
    pub df: usize,
    pub m: usize,
    pub n: usize,
    pub dk: usize,
    pub stride: usize,
}

fn bad(msg: String) -> CliError {
    CliError::Input(format!("--layer: {msg}"))
}

fn parse_value(key: &str, text: &str) -> Result<usize, CliError> {
    use std::num::IntErrorKind;
    match text.parse::<usize>() {
        Ok(v) => Ok(v),
        Err(e) if *e.kind() == IntErrorKind::PosOverflow => {
            Err(bad(format!("{key}={text} is too large")))
        }
        Err(_) if text.starts_with('-') && text[1..].parse::<u128>().is_ok() => {
            Err(bad(format!("{key} must be positive, got {text}")))
        }
        Err(_) => Err(bad(format!("{key} must be a whole number, got '{text}'"))),
    }
}

impl std::str::FromStr for LayerSpec {
    type Err = CliError;

    fn from_str(s: &str) -> Result<Self, CliError> {
        let mut values: [Option<usize>; 5] = [None; 5];
        if s.trim().is_empty() {
            return Err(bad(format!(
                "empty; expected {}",
                KEYS.map(|k| format!("{k}=..")).join(",")
            )));
        }
        for item in s.split(',') {
            let item = item.trim();
            let Some((key, value)) = item.split_once('=') else {
                return Err(bad(format!("'{item}' is not key=value")));
            };
            let (key, value) = (key.trim(), value.trim());
            let Some(i) = KEYS.iter().position(|&k| k == key) else {
                return Err(bad(format!(
                    "unknown key '{key}' (keys: {})",
                    KEYS.join(", ")
                )));
            };
            if values[i].is_some() {
                return Err(bad(format!("key '{key}' given twice")));
            }
            values[i] = Some(parse_value(key, value)?);
        }
        let get = |i: usize| {
            values[i].ok_or_else(|| {
                bad(format!(
                    "missing key '{}' (need {})",
                    KEYS[i],
                    KEYS.join(", ")
                ))
            })
        };
        Ok(LayerSpec {
            df: get(0)?,
            m: get(1)?,
            n: get(2)?,
            dk: get(3)?,
            stride: get(4)?,
        })
    }
}

impl std::fmt::Display for LayerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let LayerSpec {
            df,
            m,
            n,
            dk,
            stride,
        } = self;
        write!(f, "df={df},m={m},n={n},dk={dk},stride={stride}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        s.parse::<LayerSpec>().unwrap_err().to_string()
    }

    #[test]
    fn parses_in_any_order_with_spaces() {
        let spec: LayerSpec = "stride=2, dk=3,n=64 ,m=32,df=112".parse().unwrap();
        assert_eq!(
            spec,
            LayerSpec {
                df: 112,
                m: 32,
                n: 64,
                dk: 3,
                stride: 2
            }
        );
        assert_eq!(spec.to_string().parse::<LayerSpec>().unwrap(), spec);
    }

    #[test]
    fn zero_is_left_to_the_model() {
        let spec: LayerSpec = "df=0,m=32,n=64,dk=3,stride=1".parse().unwrap();
        assert_eq!(spec.df, 0);
    }

    #[test]
    fn malformed_strings_name_the_problem() {
        assert!(err("").contains("empty"));
        assert!(err("df=112,m=32,n=64,dk=3,stride=1,x=4").contains("unknown key 'x'"));
        assert!(err("df=112,m=32,n=64,dk=3").contains("missing key 'stride'"));
        assert!(err("df=112,m=32,n=64,dk=3,stride=1,df=5").contains("'df' given twice"));
        assert!(
            err("df=abc,m=32,n=64,dk=3,stride=1").contains("df must be a whole number, got 'abc'")
        );
        assert!(err("df=1.5,m=32,n=64,dk=3,stride=1").contains("whole number"));
        assert!(err("df=112,m=-32,n=64,dk=3,stride=1").contains("m must be positive, got -32"));
        assert!(err("df=112,m,n=64,dk=3,stride=1").contains("'m' is not key=value"));
        assert!(err("df=99999999999999999999999,m=1,n=1,dk=3,stride=1").contains("too large"));
    }
}
