//! A report written out: CSV (its first table, the one its chart draws from) or XLSX (a
//! summary sheet with the totals, then one sheet per table).

use super::{Cell, Report, Table};
use crate::export::spreadsheet_safe;
use crate::{AppError, AppResult};

/// The media type of an XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The first table as CSV, header first (the columns' keys).
pub fn csv(report: &Report) -> AppResult<Vec<u8>> {
    match report.tables.first() {
        Some(t) => table_csv(t),
        None => Ok(Vec::new()),
    }
}

/// A table as CSV, header first.
pub fn table_csv(t: &Table) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| AppError::Internal(format!("writing CSV: {e}"));
    {
        w.write_record(&t.columns).map_err(io)?;
        for row in &t.rows {
            w.write_record(row.iter().map(|c| match c {
                Cell::Text(s) => spreadsheet_safe(s),
                other => other.display(),
            }))
            .map_err(io)?;
        }
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(format!("writing CSV: {e}")))
}

/// A table as a workbook of one sheet.
pub fn table_xlsx(t: &Table) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("writing XLSX: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    write_table(book.add_worksheet(), t, &bold).map_err(fail)?;
    book.save_to_buffer().map_err(fail)
}

/// Every table as a worksheet, after a summary of the totals.
pub fn xlsx(report: &Report) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("writing XLSX: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let summary = book.add_worksheet();
    summary.set_name("summary").map_err(fail)?;
    let head = [
        ("report", report.name.as_str().to_string()),
        ("from", report.from.to_string()),
        ("to", report.to.to_string()),
        ("generated_at", report.generated_at.to_string()),
    ];
    let mut r = 0u32;
    for (k, v) in head {
        summary
            .write_string_with_format(r, 0, k, &bold)
            .map_err(fail)?;
        summary.write_string(r, 1, v).map_err(fail)?;
        r += 1;
    }
    for (k, v) in &report.totals {
        summary
            .write_string_with_format(r, 0, k, &bold)
            .map_err(fail)?;
        write_cell(summary, r, 1, v).map_err(fail)?;
        r += 1;
    }
    summary.set_column_width(0, 22).map_err(fail)?;
    for t in &report.tables {
        write_table(book.add_worksheet(), t, &bold).map_err(fail)?;
    }
    book.save_to_buffer().map_err(fail)
}

/// A table on a worksheet named after it: bold headings, the rows, the headings kept in view.
fn write_table(
    sheet: &mut rust_xlsxwriter::Worksheet,
    t: &Table,
    bold: &rust_xlsxwriter::Format,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    // Sheet names are at most 31 characters.
    let name: String = t.key.chars().take(31).collect();
    sheet.set_name(&name)?;
    for (c, col) in t.columns.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, col, bold)?;
    }
    for (i, row) in t.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            write_cell(sheet, i as u32 + 1, c as u16, cell)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn write_cell(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    match cell {
        Cell::Int(i) => sheet.write_number(row, col, *i as f64).map(|_| ()),
        Cell::Num(x) => sheet.write_number(row, col, *x).map(|_| ()),
        // Written as text, never as a formula.
        Cell::Text(s) => sheet.write_string(row, col, s).map(|_| ()),
        Cell::Empty => Ok(()),
    }
}
