//! The review as files: an .xlsx workbook (numbers as numbers) and a PDF.

use doan_platform::AppError;
use doan_platform::error::AppResult;

use crate::domain::programmes::ReviewSection;

/// The review as an .xlsx workbook: the title and lines above a table of section, figure and
/// value, values as numbers (hours with one decimal) so that the sheet can be summed.
pub fn xlsx(title: &str, subtitle: &[String], sections: &[ReviewSection]) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let failed = |e: rust_xlsxwriter::XlsxError| AppError::Internal(anyhow::anyhow!("write the review's xlsx: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let count = Format::new().set_num_format("#,##0");
    let hours = Format::new().set_num_format("#,##0.0");
    let ws = book.add_worksheet();
    ws.set_name("Tổng kết").map_err(failed)?;
    ws.set_column_width(0, 48.0).map_err(failed)?;
    ws.set_column_width(1, 20.0).map_err(failed)?;
    ws.write_string_with_format(0, 0, title, &bold).map_err(failed)?;
    let mut row = 1u32;
    for line in subtitle {
        ws.write_string(row, 0, line).map_err(failed)?;
        row += 1;
    }
    row += 1;
    ws.write_string_with_format(row, 0, "Chỉ tiêu", &bold).map_err(failed)?;
    ws.write_string_with_format(row, 1, "Kết quả", &bold).map_err(failed)?;
    row += 1;
    for (heading, figures) in sections {
        ws.write_string_with_format(row, 0, heading, &bold).map_err(failed)?;
        row += 1;
        for (label, figure) in figures {
            ws.write_string(row, 0, label).map_err(failed)?;
            let format = match figure {
                crate::domain::programmes::Figure::Hours(_) => &hours,
                _ => &count,
            };
            match figure.number() {
                Some(n) => ws.write_number_with_format(row, 1, n, format).map_err(failed)?,
                None => ws.write_string(row, 1, figure.display()).map_err(failed)?,
            };
            row += 1;
        }
    }
    book.save_to_buffer().map_err(failed)
}

/// The review as a PDF (A4, Vietnamese, values right-aligned).
pub fn pdf(title: &str, subtitle: &[String], sections: &[ReviewSection]) -> AppResult<Vec<u8>> {
    use doan_platform::pdf::{Report, Section, render};
    let report = Report {
        title: title.to_string(),
        subtitle: subtitle.to_vec(),
        sections: sections
            .iter()
            .map(|(heading, rows)| Section {
                heading: heading.clone(),
                rows: rows.iter().map(|(label, figure)| (label.clone(), figure.display())).collect(),
            })
            .collect(),
        footer: "Số liệu do hệ thống Đoàn tổng hợp từ dữ liệu đã được xác nhận.".into(),
    };
    render(&report).map_err(|e| AppError::Internal(e.context("render the review's PDF")))
}
