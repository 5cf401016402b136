//! Spreadsheet files read and written in memory: xlsx through `calamine` and
//! `rust_xlsxwriter`, csv through `csv`. Every cell an import reads becomes a [`Cell`];
//! everything written is text cells, so a citizen ID keeps its leading zeros.

use std::io::Cursor;

use calamine::{Data, Reader};

use super::import::{Cell, FileFormat, MAX_ROWS, Row};

/// A file's rows: the header row (as text) and the member rows after it, blank rows dropped.
#[derive(Debug, Default)]
pub struct Sheet {
    /// The header row.
    pub header: Vec<String>,
    /// Rows after the header, with their row numbers.
    pub rows: Vec<Row>,
}

/// Reads `bytes` as `format`; the Vietnamese reason when it is not such a file, has no header
/// or holds more than [`MAX_ROWS`] rows.
pub fn read(bytes: &[u8], format: FileFormat) -> Result<Sheet, String> {
    let mut rows = match format {
        FileFormat::Csv => read_csv(bytes)?,
        FileFormat::Xlsx => read_xlsx(bytes)?,
    }
    .into_iter()
    .filter(|r| !r.is_blank());
    let header = rows.next().ok_or("Tệp không có dòng tiêu đề")?;
    let rows: Vec<Row> = rows.take(MAX_ROWS + 1).collect();
    if rows.len() > MAX_ROWS {
        return Err(format!("Tệp có hơn {MAX_ROWS} dòng đoàn viên; hãy chia thành nhiều tệp"));
    }
    Ok(Sheet { header: header.cells.iter().map(Cell::shown).collect(), rows })
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Row>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "Tệp CSV không phải UTF-8 (byte thứ {} không hợp lệ); hãy lưu lại với mã hóa UTF-8",
            e.valid_up_to() + 1
        )
    })?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("Tệp CSV hỏng ở dòng {}: {e}", i + 1))?;
        rows.push(Row { line: i as u32 + 1, cells: record.iter().map(|s| Cell::Text(s.to_string())).collect() });
        if rows.len() > MAX_ROWS + 2 {
            break;
        }
    }
    Ok(rows)
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Row>, String> {
    let not_xlsx = |e: &dyn std::fmt::Display| format!("Không đọc được tệp xlsx: {e}");
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| not_xlsx(&e))?;
    let range = match book.worksheet_range_at(0) {
        Some(range) => range.map_err(|e| not_xlsx(&e))?,
        None => return Err("Tệp xlsx không có trang tính nào".into()),
    };
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    Ok(range
        .rows()
        .take(MAX_ROWS + 2)
        .enumerate()
        .map(|(i, cells)| {
            let mut row: Vec<Cell> = (0..first_col).map(|_| Cell::Empty).collect();
            row.extend(cells.iter().map(cell));
            Row { line: first_row + i as u32 + 1, cells: row }
        })
        .collect())
}

fn cell(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(at) => Cell::Date(at.date()),
            None => Cell::Text(dt.to_string()),
        },
        Data::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}

/// A sheet to write: its name and rows of text cells, the first in bold.
pub struct SheetOut<'a> {
    /// Sheet name (at most 31 characters).
    pub name: &'a str,
    /// Rows; the first is the header.
    pub rows: Vec<Vec<String>>,
}

/// An xlsx workbook of `sheets` (text cells, bold header, columns sized to their header).
pub fn write_xlsx(sheets: &[SheetOut<'_>]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let failed = |e: rust_xlsxwriter::XlsxError| format!("Không tạo được tệp xlsx: {e}");
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for sheet in sheets {
        let ws = book.add_worksheet();
        ws.set_name(sheet.name).map_err(failed)?;
        for (r, row) in sheet.rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                if r == 0 {
                    ws.write_string_with_format(r, c, value, &bold).map_err(failed)?;
                    ws.set_column_width(c, (value.chars().count() as f64 + 4.0).max(12.0)).map_err(failed)?;
                } else if !value.is_empty() {
                    ws.write_string(r, c, value).map_err(failed)?;
                }
            }
        }
    }
    book.save_to_buffer().map_err(failed)
}

/// Rows as csv (UTF-8 with a byte-order mark, so spreadsheet programs read Vietnamese right).
pub fn write_csv(rows: &[Vec<String>], with_bom: bool) -> Vec<u8> {
    let mut out = if with_bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(&mut out);
    for row in rows {
        // Writing to memory cannot fail.
        let _ = writer.write_record(row);
    }
    drop(writer);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<String>> {
        vec![
            vec!["Họ và tên".into(), "Số CCCD".into()],
            vec!["Nguyễn Văn An".into(), "001099012345".into()],
            vec![String::new(), String::new()],
            vec!["Lê Thị, \"Bé\"".into(), "001099012346".into()],
        ]
    }

    #[test]
    fn csv_round_trips_with_a_bom_and_quotes() {
        let bytes = write_csv(&rows(), true);
        let sheet = read(&bytes, FileFormat::Csv).unwrap();
        assert_eq!(sheet.header, vec!["Họ và tên", "Số CCCD"]);
        assert_eq!(sheet.rows.len(), 2);
        assert_eq!(sheet.rows[1].line, 4);
        assert_eq!(sheet.rows[1].cells[0], Cell::Text("Lê Thị, \"Bé\"".into()));
    }

    #[test]
    fn xlsx_round_trips_text_cells() {
        let bytes = write_xlsx(&[SheetOut { name: "Đoàn viên", rows: rows() }]).unwrap();
        let sheet = read(&bytes, FileFormat::Xlsx).unwrap();
        assert_eq!(sheet.header, vec!["Họ và tên", "Số CCCD"]);
        assert_eq!(sheet.rows.len(), 2);
        assert_eq!(sheet.rows[0].cells[1], Cell::Text("001099012345".into()));
        assert_eq!(sheet.rows[1].line, 4);
    }

    #[test]
    fn garbage_is_refused_in_vietnamese() {
        assert!(read(b"not a zip", FileFormat::Xlsx).unwrap_err().starts_with("Không đọc được tệp xlsx"));
        assert!(read(&[0xff, 0xfe, 0x00], FileFormat::Csv).unwrap_err().contains("UTF-8"));
        assert_eq!(read(b"\n\n", FileFormat::Csv).unwrap_err(), "Tệp không có dòng tiêu đề");
    }
}
