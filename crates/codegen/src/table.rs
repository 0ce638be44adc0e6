//! Plain-text tables: columns padded to their widest cell, numbers right-aligned, so a person
//! can read down a column.

/// Alignment of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table under construction: a header row and body rows of pre-formatted cells.
#[derive(Debug, Clone)]
pub struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these (header, alignment) columns.
    pub fn new(columns: &[(&str, Align)]) -> Self {
        Table {
            columns: columns.iter().map(|&(h, a)| (h.to_string(), a)).collect(),
            rows: vec![],
        }
    }

    /// Appends a row; missing trailing cells are blank.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as lines separated by `\n`, the header first; trailing spaces trimmed.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                let body = self.rows.iter().map(|r| cell(r, i).chars().count());
                body.chain([self.columns[i].0.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let header: Vec<String> = self.columns.iter().map(|(h, _)| h.clone()).collect();
        let mut out = String::new();
        for r in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, (_, align)) in self.columns.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let text = cell(r, i);
                let pad = " ".repeat(widths[i] - text.chars().count());
                match align {
                    Align::Left => line.push_str(&format!("{text}{pad}")),
                    Align::Right => line.push_str(&format!("{pad}{text}")),
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

fn cell(row: &[String], i: usize) -> &str {
    row.get(i).map(String::as_str).unwrap_or("")
}

/// `1234567` → `1,234,567`.
pub fn thousands(x: u64) -> String {
    let digits = x.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A fraction as a percentage with two decimals: `0.9486` → `94.86%`.
pub fn percent(fraction: f64) -> String {
    format!("{:.2}%", fraction * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(568_740_352), "568,740,352");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn percent_has_two_decimals() {
        assert_eq!(percent(0.94861), "94.86%");
        assert_eq!(percent(1.0), "100.00%");
    }

    #[test]
    fn columns_align() {
        let mut t = Table::new(&[("name", Align::Left), ("n", Align::Right)]);
        t.row(vec!["a".into(), "1,000".into()]);
        t.row(vec!["long".into(), "7".into()]);
        assert_eq!(t.render(), "name      n\na     1,000\nlong      7\n");
    }
}
