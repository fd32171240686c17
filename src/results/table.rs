//! CSV of typed rows: the header comes from the row type, and reading checks the header and
//! every cell, reporting problems at file:line:column.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;

/// A problem in a result file, with its position (line and column from 1; column 0: the whole
/// line; line 0: the whole file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    pub file: String,
    pub line: u64,
    pub column: usize,
    pub message: String,
}

impl FileError {
    pub fn new(file: &str, line: u64, column: usize, message: impl Into<String>) -> FileError {
        FileError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}: {}", self.file, self.message),
            (l, 0) => write!(f, "{}:{l}: {}", self.file, self.message),
            (l, c) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for FileError {}

/// A file that does not read back is the user's input: exit status 2.
impl From<FileError> for crate::error::Error {
    fn from(e: FileError) -> crate::error::Error {
        crate::error::Error::Input(e.to_string())
    }
}

/// The column names of a row type: its serde field names in order, nested structs flattened.
pub fn columns<R: Serialize + Default>() -> Vec<String> {
    fn leaves(v: &serde_json::Value, out: &mut Vec<String>) {
        if let serde_json::Value::Object(m) = v {
            for (k, x) in m {
                if x.is_object() {
                    leaves(x, out);
                } else {
                    out.push(k.clone());
                }
            }
        }
    }
    let mut out = Vec::new();
    leaves(
        &serde_json::to_value(R::default()).expect("result rows serialize"),
        &mut out,
    );
    out
}

/// A CSV file being written: the header, then one record per row.
pub struct Writer {
    w: csv::Writer<Vec<u8>>,
}

impl Writer {
    pub fn new(header: &[String]) -> Writer {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        w.write_record(header).expect("writing to memory");
        Writer { w }
    }

    /// A file whose header is the columns of `R`.
    pub fn of<R: Serialize + Default>() -> Writer {
        Writer::new(&columns::<R>())
    }

    /// Writes one row.
    pub fn row<R: Serialize>(&mut self, row: &R) {
        self.w.serialize(row).expect("result rows serialize");
    }

    /// Writes the cells of `prefix` then the row's.
    pub fn row_after<R: Serialize>(&mut self, prefix: &[String], row: &R) {
        self.w
            .serialize((prefix, row))
            .expect("result rows serialize");
    }

    pub fn finish(self) -> Vec<u8> {
        self.w.into_inner().expect("writing to memory")
    }
}

/// Line numbers of records from their byte offsets: the csv crate's own line count is one
/// short for every record of a file with CRLF line ends.
pub struct Lines<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    pub fn new(bytes: &'a [u8]) -> Lines<'a> {
        Lines {
            bytes,
            at: 0,
            line: 1,
        }
    }

    /// The line a record at `pos` starts on (0 when unknown).
    pub fn of(&mut self, pos: Option<&csv::Position>) -> u64 {
        let Some(p) = pos else { return 0 };
        let mut b = (p.byte() as usize).min(self.bytes.len());
        // With CRLF ends a record's offset can point at the LF before it.
        while b < self.bytes.len() && matches!(self.bytes[b], b'\r' | b'\n') {
            b += 1;
        }
        if b < self.at {
            (self.at, self.line) = (0, 1);
        }
        self.line += self.bytes[self.at..b]
            .iter()
            .filter(|c| **c == b'\n')
            .count() as u64;
        self.at = b;
        self.line
    }
}

/// Reads a CSV file of rows of `R`, after leading columns that vary from file to file (a sweep's
/// parameters): `prefix` of them, or None for as many as the header has beyond `R`'s. Calls
/// `each(line, leading cells, row)` per record; returns the leading column names.
pub fn read_rows<R: DeserializeOwned + Serialize + Default>(
    file: &str,
    bytes: &[u8],
    prefix: Option<usize>,
    mut each: impl FnMut(u64, &[String], R) -> Result<(), FileError>,
) -> Result<Vec<String>, FileError> {
    let expected = columns::<R>();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    let mut rec = csv::StringRecord::new();
    let read = |r: &mut csv::Reader<&[u8]>, rec: &mut csv::StringRecord| {
        r.read_record(rec).map_err(|e| csv_error(file, &e))
    };
    if !read(&mut r, &mut rec)? {
        return Err(FileError::new(
            file,
            1,
            0,
            format!(
                "expected a header line starting `{}`, found an empty file",
                expected.first().map_or("", String::as_str)
            ),
        ));
    }
    let header: Vec<String> = rec.iter().map(String::from).collect();
    let prefix = prefix.unwrap_or(header.len().saturating_sub(expected.len()));
    let lead: Vec<String> = header.iter().take(prefix).cloned().collect();
    let found = &header[lead.len()..];
    for (i, want) in expected.iter().enumerate() {
        match found.get(i) {
            Some(h) if h == want => {}
            Some(h) => {
                return Err(FileError::new(
                    file,
                    1,
                    prefix + i + 1,
                    format!("expected column `{want}`, found `{h}`"),
                ))
            }
            None => {
                return Err(FileError::new(
                    file,
                    1,
                    header.len() + 1,
                    format!("expected column `{want}`, found the end of the header"),
                ))
            }
        }
    }
    if found.len() > expected.len() {
        return Err(FileError::new(
            file,
            1,
            prefix + expected.len() + 1,
            format!(
                "expected the end of the header, found column `{}`",
                found[expected.len()]
            ),
        ));
    }
    let mut cells = vec![String::new(); prefix];
    let mut lines = Lines::new(bytes);
    while read(&mut r, &mut rec)? {
        let line = lines.of(rec.position());
        for (c, v) in cells.iter_mut().zip(rec.iter()) {
            c.clear();
            c.push_str(v);
        }
        let rest: csv::StringRecord = rec.iter().skip(prefix).collect();
        let row: R = rest.deserialize(None).map_err(|e| {
            let col = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => err
                    .field()
                    .map(|f| f as usize)
                    .or_else(|| failing_cell::<R>(&rest)),
                _ => None,
            };
            let msg = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => {
                    cell_message(err, col.and_then(|c| rest.get(c)))
                }
                _ => e.to_string(),
            };
            match col {
                Some(c) => FileError::new(
                    file,
                    line,
                    prefix + c + 1,
                    format!("column `{}`: {msg}", expected[c]),
                ),
                None => FileError::new(file, line, 0, msg),
            }
        })?;
        each(line, &cells, row)?;
    }
    Ok(lead)
}

/// The cell a custom error (from a cell type of [`super::cells`]) came from, which csv does not
/// record: the shortest prefix of the record that fails other than by ending early ends with it.
fn failing_cell<R: DeserializeOwned>(rec: &csv::StringRecord) -> Option<usize> {
    let fails_within = |k: usize| {
        let prefix: csv::StringRecord = rec.iter().take(k).collect();
        match prefix.deserialize::<R>(None) {
            // Running out of cells shows as a missing field or as serde's "invalid length".
            Err(e) => match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => match err.kind() {
                    csv::DeserializeErrorKind::UnexpectedEndOfRow => false,
                    csv::DeserializeErrorKind::Message(m) => !m.starts_with("invalid length"),
                    _ => true,
                },
                _ => true,
            },
            Ok(_) => false,
        }
    };
    let (mut lo, mut hi) = (1, rec.len());
    if hi == 0 || !fails_within(hi) {
        return None;
    }
    while lo < hi {
        let mid = (lo + hi) / 2;
        if fails_within(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(lo - 1)
}

/// What a cell should have held, in words.
fn cell_message(err: &csv::DeserializeError, cell: Option<&str>) -> String {
    let found = cell.map_or("nothing".to_string(), |c| format!("`{c}`"));
    match err.kind() {
        csv::DeserializeErrorKind::ParseInt(_) => {
            format!("expected a whole number, found {found}")
        }
        csv::DeserializeErrorKind::ParseFloat(_) => format!("expected a number, found {found}"),
        csv::DeserializeErrorKind::ParseBool(_) => {
            format!("expected true or false, found {found}")
        }
        csv::DeserializeErrorKind::UnexpectedEndOfRow => "the line ends early".to_string(),
        csv::DeserializeErrorKind::Message(m) if m.starts_with("expected ") => m.clone(),
        csv::DeserializeErrorKind::Message(m) => format!("{m}, found {found}"),
        _ => format!("{err}, found {found}"),
    }
}

fn csv_error(file: &str, e: &csv::Error) -> FileError {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => FileError::new(
            file,
            pos.as_ref().map_or(0, |p| p.line()),
            0,
            format!("expected {expected_len} cells as in the header, found {len}"),
        ),
        csv::ErrorKind::Utf8 { pos, err } => FileError::new(
            file,
            pos.as_ref().map_or(0, |p| p.line()),
            err.field() + 1,
            "expected UTF-8 text",
        ),
        _ => FileError::new(file, 0, 0, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::cells::{Rate, Time};

    #[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
    struct Inner {
        rate: Option<Rate>,
        n: u64,
    }

    #[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
    struct Row {
        at: Time,
        name: String,
        inner: Inner,
        last: bool,
    }

    fn read(text: &str) -> Result<Vec<Row>, FileError> {
        let mut v = Vec::new();
        read_rows::<Row>("t.csv", text.as_bytes(), Some(0), |_, _, r| {
            v.push(r);
            Ok(())
        })?;
        Ok(v)
    }

    #[test]
    fn rows_round_trip_with_nested_columns_and_empty_cells() {
        assert_eq!(columns::<Row>(), ["at", "name", "rate", "n", "last"]);
        let rows = vec![
            Row {
                at: Time(1_000),
                name: "a,b".into(),
                inner: Inner {
                    rate: Rate::of(0.25),
                    n: 3,
                },
                last: true,
            },
            Row::default(),
        ];
        let mut w = Writer::of::<Row>();
        rows.iter().for_each(|r| w.row(r));
        let bytes = w.finish();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            "at,name,rate,n,last\n1970-01-01T00:00:01Z,\"a,b\",0.250000,3,true\n1970-01-01T00:00:00Z,,,0,false\n"
        );
        assert_eq!(read(std::str::from_utf8(&bytes).unwrap()).unwrap(), rows);
    }

    #[test]
    fn problems_are_positioned() {
        let h = "at,name,rate,n,last\n";
        let e = |t: &str| read(t).unwrap_err().to_string();
        assert_eq!(
            e(""),
            "t.csv:1: expected a header line starting `at`, found an empty file"
        );
        assert_eq!(
            e("at,name,rte,n,last\n"),
            "t.csv:1:3: expected column `rate`, found `rte`"
        );
        assert_eq!(
            e("at,name,rate\n"),
            "t.csv:1:4: expected column `n`, found the end of the header"
        );
        assert_eq!(
            e(&format!("{h}1970-01-01T00:00:00Z,x,0.5,abc,true\n")),
            "t.csv:2:4: column `n`: expected a whole number, found `abc`"
        );
        assert_eq!(
            e(&format!(
                "{h}1970-01-01T00:00:00Z,x,0.5,1,true\n1970-01-01,x,zz,1,true\n"
            )),
            "t.csv:3:3: column `rate`: expected a number, found `zz`"
        );
        assert_eq!(
            e(&format!("{h}2026-13-01T00:00:00Z,x,,1,true\n")),
            "t.csv:2:1: column `at`: expected an RFC 3339 time such as 2026-01-01T00:00:00Z, found `2026-13-01T00:00:00Z`"
        );
        assert_eq!(
            e(&format!("{h}1970-01-01T00:00:00Z,x,,1\n")),
            "t.csv:2: expected 5 cells as in the header, found 4"
        );
    }
}
