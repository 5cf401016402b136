//! Simple PDF reports: a title, lines under it, then sections of (label, value) rows.
//!
//! Text is shaped with rustybuzz against DejaVu Sans (compiled in) and drawn as exactly those
//! glyphs with krilla, which embeds subsets of the fonts. So the widths used for wrapping and
//! right alignment are the widths drawn, and every Vietnamese letter (precomposed after NFC)
//! has a glyph of its own. Pages are A4 portrait with 2 cm margins, numbered "Trang N/M".

use anyhow::anyhow;
use krilla::Document;
use krilla::color::luma;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use rustybuzz::{Direction, UnicodeBuffer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A simple report: a title, lines under it, then sections of two-column rows (label, value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Title (bold, larger), e.g. "BÁO CÁO TỔNG KẾT CÔNG TÁC ĐOÀN NĂM 2026".
    pub title: String,
    /// Lines under the title (unit, period, date made).
    pub subtitle: Vec<String>,
    /// Sections in order.
    pub sections: Vec<Section>,
    /// A closing line at the bottom of the last page (may be empty).
    pub footer: String,
}

/// A section: a heading and its rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// The section's heading (bold), e.g. "I. Phong trào thanh niên tình nguyện".
    pub heading: String,
    /// Rows of (label, value): the label left-aligned and wrapped within its column, the value
    /// right-aligned.
    pub rows: Vec<(String, String)>,
}

/// Renders `report` to PDF bytes: A4 portrait, margins about 2 cm, DejaVu Sans embedded (subset) so
/// every Vietnamese diacritic shows; the label column left-aligned, the value column right-aligned;
/// long labels wrap within their column; rows flow onto further pages as needed, each page numbered
/// "Trang N/M" at the bottom. Fonts are compiled in with include_bytes!.
pub fn render(report: &Report) -> anyhow::Result<Vec<u8>> {
    let fonts = Fonts::load();
    let pages = layout(report, &fonts);
    paint(report, &fonts, pages)
}

static REGULAR_TTF: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// A4 in PostScript points (1/72 in): 210 × 297 mm.
const PAGE_WIDTH: f32 = 595.276;
const PAGE_HEIGHT: f32 = 841.89;
/// 2 cm.
const MARGIN: f32 = 56.693;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const CONTENT_TOP: f32 = MARGIN;
const CONTENT_BOTTOM: f32 = PAGE_HEIGHT - MARGIN;
const CONTENT_HEIGHT: f32 = CONTENT_BOTTOM - CONTENT_TOP;
/// The page number's baseline, about 1 cm above the bottom edge (inside the bottom margin).
const PAGE_NUMBER_BASELINE: f32 = PAGE_HEIGHT - 30.0;
/// Space between the label and the value columns.
const COLUMN_GAP: f32 = 14.0;
/// Space above and below each row's text.
const ROW_PAD: f32 = 3.5;
/// Space after the title block and before each section.
const BLOCK_GAP: f32 = 16.0;
/// The value column is as wide as its widest value, within these shares of the content width.
const VALUE_MIN_SHARE: f32 = 0.15;
const VALUE_MAX_SHARE: f32 = 0.45;

/// How a kind of text is set: font, size, line height, and grey level (0 black, 255 white).
#[derive(Debug, Clone, Copy)]
struct Style {
    bold: bool,
    size: f32,
    leading: f32,
    gray: u8,
}

const TITLE: Style = Style { bold: true, size: 15.0, leading: 20.0, gray: 0 };
const SUBTITLE: Style = Style { bold: false, size: 11.0, leading: 15.0, gray: 30 };
const HEADING: Style = Style { bold: true, size: 12.0, leading: 16.0, gray: 0 };
const CELL: Style = Style { bold: false, size: 10.5, leading: 14.0, gray: 0 };
const FOOTER: Style = Style { bold: false, size: 10.0, leading: 13.5, gray: 60 };
const PAGE_NUMBER: Style = Style { bold: false, size: 9.0, leading: 12.0, gray: 90 };

/// One font, both as krilla embeds it and as rustybuzz shapes with it.
struct Face {
    pdf: Font,
    shaper: rustybuzz::Face<'static>,
    units_per_em: f32,
    /// Ascender and descender (negative) in ems, from the font's horizontal header.
    ascender: f32,
    descender: f32,
}

impl Face {
    fn load(data: &'static [u8], name: &str) -> Self {
        let pdf = Font::new(data.into(), 0)
            .unwrap_or_else(|| panic!("the compiled-in font {name} does not parse for krilla"));
        let shaper = rustybuzz::Face::from_slice(data, 0)
            .unwrap_or_else(|| panic!("the compiled-in font {name} does not parse for rustybuzz"));
        let units_per_em = shaper.units_per_em() as f32;
        let ascender = f32::from(shaper.ascender()) / units_per_em;
        let descender = f32::from(shaper.descender()) / units_per_em;
        Face { pdf, shaper, units_per_em, ascender, descender }
    }

    /// The baseline of a line set in `style` whose line box starts at `top`: the glyphs' extent
    /// (ascender to descender) centred in the line height.
    fn baseline(&self, style: Style, top: f32) -> f32 {
        let extent = (self.ascender - self.descender) * style.size;
        top + (style.leading - extent) / 2.0 + self.ascender * style.size
    }
}

struct Fonts {
    regular: Face,
    bold: Face,
}

impl Fonts {
    fn load() -> Self {
        Fonts { regular: Face::load(REGULAR_TTF, "DejaVuSans.ttf"), bold: Face::load(BOLD_TTF, "DejaVuSans-Bold.ttf") }
    }

    fn face(&self, style: Style) -> &Face {
        if style.bold { &self.bold } else { &self.regular }
    }
}

/// A line of text shaped with one face at one size: what is measured is what is drawn.
#[derive(Debug, Clone)]
struct Line {
    text: String,
    glyphs: Vec<KrillaGlyph>,
    /// Advance width in points at the size it was shaped for.
    width: f32,
}

/// Shapes `text` as one left-to-right line. Glyph metrics are kept in ems, as krilla wants them;
/// each glyph's text range is its whole cluster, so the PDF's text extracts as the input.
fn shape(face: &Face, size: f32, text: &str) -> Line {
    let mut buffer = UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.guess_segment_properties();
    buffer.set_direction(Direction::LeftToRight);
    let output = rustybuzz::shape(&face.shaper, &[], buffer);
    let infos = output.glyph_infos();
    let positions = output.glyph_positions();
    let em = face.units_per_em;
    let mut glyphs = Vec::with_capacity(infos.len());
    let mut advance = 0i64;
    for (i, (info, position)) in infos.iter().zip(positions).enumerate() {
        let start = info.cluster as usize;
        // Left to right, clusters never decrease: the cluster ends where the next one starts.
        let end =
            infos[i + 1..].iter().map(|next| next.cluster as usize).find(|&next| next != start).unwrap_or(text.len());
        advance += i64::from(position.x_advance);
        glyphs.push(KrillaGlyph::new(
            GlyphId::new(info.glyph_id),
            position.x_advance as f32 / em,
            position.x_offset as f32 / em,
            position.y_offset as f32 / em,
            position.y_advance as f32 / em,
            start..end,
            None,
        ));
    }
    Line { text: text.to_owned(), glyphs, width: advance as f32 / em * size }
}

/// Text as it is set: NFC (so Vietnamese letters use the fonts' precomposed glyphs), control
/// characters other than line breaks turned into spaces.
fn clean(text: &str) -> String {
    text.replace("\r\n", "\n").nfc().map(|c| if c.is_control() && c != '\n' { ' ' } else { c }).collect()
}

/// Breaks `text` into lines no wider than `max_width` points: at spaces, at line breaks in the
/// text, and inside a word only when the word alone is too wide. Blank text gives no lines.
fn wrap(face: &Face, size: f32, text: &str, max_width: f32) -> Vec<Line> {
    let text = clean(text);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut current: Option<Line> = None;
        for word in paragraph.split_whitespace() {
            let candidate = match &current {
                Some(line) => format!("{} {word}", line.text),
                None => word.to_owned(),
            };
            let shaped = shape(face, size, &candidate);
            if shaped.width <= max_width {
                current = Some(shaped);
                continue;
            }
            lines.extend(current.take());
            let alone = shape(face, size, word);
            if alone.width <= max_width {
                current = Some(alone);
            } else {
                let mut pieces = break_word(face, size, word, max_width);
                current = pieces.pop();
                lines.extend(pieces);
            }
        }
        lines.extend(current);
    }
    lines
}

/// Breaks one over-wide word between characters (never between a letter and its combining marks),
/// each piece as long as fits; a piece holds at least one character.
fn break_word(face: &Face, size: f32, word: &str, max_width: f32) -> Vec<Line> {
    let mut starts: Vec<usize> =
        word.char_indices().filter(|&(i, c)| i == 0 || !is_combining_mark(c)).map(|(i, _)| i).collect();
    starts.push(word.len());
    let mut pieces = Vec::new();
    let mut piece = String::new();
    for bounds in starts.windows(2) {
        let character = &word[bounds[0]..bounds[1]];
        let candidate = format!("{piece}{character}");
        if !piece.is_empty() && shape(face, size, &candidate).width > max_width {
            pieces.push(shape(face, size, &piece));
            piece = character.to_owned();
        } else {
            piece = candidate;
        }
    }
    if !piece.is_empty() {
        pieces.push(shape(face, size, &piece));
    }
    pieces
}

/// Where a line goes across the page.
#[derive(Debug, Clone, Copy)]
enum Align {
    /// Starts at x.
    Left(f32),
    /// Ends at x.
    Right(f32),
    /// Centred on x.
    Center(f32),
}

/// What is drawn on a page, positioned.
#[derive(Debug, Clone)]
enum Op {
    /// A shaped line whose baseline starts at (x, baseline).
    Text { style: Style, x: f32, baseline: f32, line: Line },
    /// A horizontal rule.
    Rule { x1: f32, x2: f32, y: f32, width: f32, gray: u8 },
}

/// A row with its two cells already wrapped to their columns.
struct Row {
    label: Vec<Line>,
    value: Vec<Line>,
}

impl Row {
    fn lines(&self) -> usize {
        self.label.len().max(self.value.len()).max(1)
    }

    fn height(&self) -> f32 {
        self.lines() as f32 * CELL.leading + 2.0 * ROW_PAD
    }
}

/// Places content top to bottom, starting a page when the next piece does not fit.
struct Layout<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    /// Top of the free space on the last page.
    y: f32,
}

impl Layout<'_> {
    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = CONTENT_TOP;
    }

    fn room(&self) -> f32 {
        CONTENT_BOTTOM - self.y
    }

    fn at_top(&self) -> bool {
        self.y <= CONTENT_TOP
    }

    fn push(&mut self, op: Op) {
        match self.pages.last_mut() {
            Some(page) => page.push(op),
            None => self.pages.push(vec![op]),
        }
    }

    /// Starts a new page unless `height` fits in what is left of this one.
    fn ensure(&mut self, height: f32) {
        if height > self.room() && !self.at_top() {
            self.new_page();
        }
    }

    /// Puts `line` in the line box starting at the current y, without moving down.
    fn put(&mut self, style: Style, align: Align, line: Line) {
        let x = match align {
            Align::Left(x) => x,
            Align::Right(x) => x - line.width,
            Align::Center(x) => x - line.width / 2.0,
        };
        let baseline = self.fonts.face(style).baseline(style, self.y);
        self.push(Op::Text { style, x, baseline, line });
    }

    /// Sets wrapped lines one under the other, each kept whole on a page.
    fn lines(&mut self, style: Style, align: Align, lines: Vec<Line>) {
        for line in lines {
            self.ensure(style.leading);
            self.put(style, align, line);
            self.y += style.leading;
        }
    }

    fn rule(&mut self, width: f32, gray: u8) {
        self.push(Op::Rule { x1: MARGIN, x2: MARGIN + CONTENT_WIDTH, y: self.y, width, gray });
    }

    /// Places a row whole on one page (starting a new one if needed); only a row taller than a
    /// page is split, between its lines.
    fn row(&mut self, row: Row, value_right: f32) {
        let lines = row.lines();
        let height = row.height();
        if height > self.room() && height <= CONTENT_HEIGHT {
            self.new_page();
        }
        self.y += ROW_PAD;
        let mut labels = row.label.into_iter();
        let mut values = row.value.into_iter();
        for _ in 0..lines {
            self.ensure(CELL.leading);
            if let Some(line) = labels.next() {
                self.put(CELL, Align::Left(MARGIN), line);
            }
            if let Some(line) = values.next() {
                self.put(CELL, Align::Right(value_right), line);
            }
            self.y += CELL.leading;
        }
        self.y += ROW_PAD;
        self.rule(0.4, 200);
    }
}

/// Lays the report out on pages (page numbers included), in points from the top-left corner.
fn layout(report: &Report, fonts: &Fonts) -> Vec<Vec<Op>> {
    let mut page = Layout { fonts, pages: vec![Vec::new()], y: CONTENT_TOP };
    let centre = PAGE_WIDTH / 2.0;

    // Title block, centred.
    page.lines(TITLE, Align::Center(centre), wrap(&fonts.bold, TITLE.size, &report.title, CONTENT_WIDTH));
    for line in &report.subtitle {
        page.lines(SUBTITLE, Align::Center(centre), wrap(&fonts.regular, SUBTITLE.size, line, CONTENT_WIDTH));
    }

    // One pair of columns for the whole report: the value column as wide as the widest value
    // (within bounds), the label column the rest.
    let widest_value = report
        .sections
        .iter()
        .flat_map(|section| &section.rows)
        .flat_map(|(_, value)| {
            clean(value).split('\n').map(|part| shape(&fonts.regular, CELL.size, part.trim()).width).collect::<Vec<_>>()
        })
        .fold(0.0_f32, f32::max);
    let value_width = widest_value.clamp(CONTENT_WIDTH * VALUE_MIN_SHARE, CONTENT_WIDTH * VALUE_MAX_SHARE);
    let label_width = CONTENT_WIDTH - value_width - COLUMN_GAP;
    let value_right = MARGIN + CONTENT_WIDTH;

    for section in &report.sections {
        let heading = wrap(&fonts.bold, HEADING.size, &section.heading, CONTENT_WIDTH);
        let rows: Vec<Row> = section
            .rows
            .iter()
            .map(|(label, value)| Row {
                label: wrap(&fonts.regular, CELL.size, label, label_width),
                value: wrap(&fonts.regular, CELL.size, value, value_width),
            })
            .collect();
        // Keep the heading with its first row.
        let head_height = heading.len() as f32 * HEADING.leading + 3.0;
        let needed = head_height + rows.first().map_or(0.0, Row::height);
        if !page.at_top() {
            if BLOCK_GAP + needed > page.room() && needed <= CONTENT_HEIGHT {
                page.new_page();
            } else {
                page.y += BLOCK_GAP;
            }
        }
        if !heading.is_empty() {
            page.lines(HEADING, Align::Left(MARGIN), heading);
            page.y += 2.0;
            page.rule(0.8, 0);
            page.y += 1.0;
        }
        for row in rows {
            page.row(row, value_right);
        }
    }

    // The closing line sits at the bottom of the last page.
    let footer = wrap(&fonts.regular, FOOTER.size, &report.footer, CONTENT_WIDTH);
    if !footer.is_empty() {
        let height = footer.len() as f32 * FOOTER.leading;
        let gap = if page.at_top() { 0.0 } else { BLOCK_GAP };
        if gap + height > page.room() && height <= CONTENT_HEIGHT {
            page.new_page();
        }
        page.y = page.y.max(CONTENT_BOTTOM - height);
        page.lines(FOOTER, Align::Left(MARGIN), footer);
    }

    let total = page.pages.len();
    for (index, ops) in page.pages.iter_mut().enumerate() {
        let line = shape(&fonts.regular, PAGE_NUMBER.size, &format!("Trang {}/{}", index + 1, total));
        let x = centre - line.width / 2.0;
        ops.push(Op::Text { style: PAGE_NUMBER, x, baseline: PAGE_NUMBER_BASELINE, line });
    }
    page.pages
}

/// Draws laid-out pages into a PDF.
fn paint(report: &Report, fonts: &Fonts, pages: Vec<Vec<Op>>) -> anyhow::Result<Vec<u8>> {
    let mut document = Document::new();
    let title = clean(&report.title).split_whitespace().collect::<Vec<_>>().join(" ");
    document.set_metadata(Metadata::new().title(title).language("vi".to_owned()).creator("Đoàn".to_owned()));
    for ops in pages {
        let settings =
            PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or_else(|| anyhow!("the A4 page size was refused"))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for op in ops {
            draw(&mut surface, fonts, op);
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|error| anyhow!("the PDF could not be written: {error:?}"))
}

fn draw(surface: &mut Surface<'_>, fonts: &Fonts, op: Op) {
    match op {
        Op::Text { style, x, baseline, line } => {
            surface.set_stroke(None);
            surface.set_fill(Some(Fill {
                paint: luma::Color::new(style.gray).into(),
                opacity: NormalizedF32::ONE,
                rule: Default::default(),
            }));
            let face = fonts.face(style);
            surface.draw_glyphs(
                Point::from_xy(x, baseline),
                &line.glyphs,
                face.pdf.clone(),
                &line.text,
                style.size,
                false,
            );
        }
        Op::Rule { x1, x2, y, width, gray } => {
            let mut path = PathBuilder::new();
            path.move_to(x1, y);
            path.line_to(x2, y);
            if let Some(path) = path.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke { paint: luma::Color::new(gray).into(), width, ..Default::default() }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG_LABEL: &str = "Số thanh niên được tư vấn, giới thiệu việc làm, hỗ trợ vay vốn phát triển kinh tế, \
                              khởi nghiệp và lập nghiệp tại địa phương trong năm";
    const VIETNAMESE_LETTERS: &str = "aàáảãạ ăằắẳẵặ âầấẩẫậ eèéẻẽẹ êềếểễệ iìíỉĩị oòóỏõọ ôồốổỗộ ơờớởỡợ \
                                      uùúủũụ ưừứửữự yỳýỷỹỵ đ AÀÁẢÃẠ ĂẰẮẲẴẶ ÂẦẤẨẪẬ EÈÉẺẼẸ ÊỀẾỂỄỆ \
                                      IÌÍỈĨỊ OÒÓỎÕỌ ÔỒỐỔỖỘ ƠỜỚỞỠỢ UÙÚỦŨỤ ƯỪỨỬỮỰ YỲÝỶỸỴ Đ";

    fn row(label: &str, value: &str) -> (String, String) {
        (label.to_owned(), value.to_owned())
    }

    fn sample() -> Report {
        let mut extra: Vec<(String, String)> = (1..=80)
            .map(|i| (format!("Chi đoàn số {i} — hoạt động tình nguyện, tổng kết quý"), format!("{}", i * 37)))
            .collect();
        extra.insert(0, row("Tiếng Việt: ă â đ ê ô ơ ư · à á ả ã ạ · Ở Ữ Ỵ Ẫ Ặ", "ừ ứ ử ữ ự"));
        Report {
            title: "BÁO CÁO TỔNG KẾT NĂM 2026 — Thành đoàn Hà Nội".to_owned(),
            subtitle: vec![
                "Đoàn Thanh niên Cộng sản Hồ Chí Minh".to_owned(),
                "Kỳ báo cáo: 01/01/2026 – 31/12/2026 · Ngày lập: 15/12/2026".to_owned(),
            ],
            sections: vec![
                Section {
                    heading: "I. Phong trào thanh niên tình nguyện".to_owned(),
                    rows: vec![
                        row("Công trình thanh niên", "12"),
                        row("Giá trị công trình (đồng)", "1.234.567.000"),
                        row("Lượt đoàn viên tham gia", "3.456"),
                        row("Đơn vị máu", "789"),
                        row(LONG_LABEL, "5.678"),
                    ],
                },
                Section { heading: "II. Hoạt động của các chi đoàn".to_owned(), rows: extra },
            ],
            footer: "TM. BAN THƯỜNG VỤ THÀNH ĐOÀN — Bí thư (đã ký)".to_owned(),
        }
    }

    fn texts(page: &[Op]) -> Vec<(&Line, f32, f32, Style)> {
        page.iter()
            .filter_map(|op| match op {
                Op::Text { style, x, baseline, line } => Some((line, *x, *baseline, *style)),
                Op::Rule { .. } => None,
            })
            .collect()
    }

    #[test]
    fn every_vietnamese_letter_has_a_glyph_in_both_fonts() {
        let fonts = Fonts::load();
        for face in [&fonts.regular, &fonts.bold] {
            let line = shape(face, 12.0, &clean(VIETNAMESE_LETTERS));
            assert!(!line.glyphs.is_empty());
            assert!(line.glyphs.iter().all(|glyph| glyph.glyph_id.to_u32() != 0), "a letter fell back to .notdef");
        }
        // Decomposed input (NFD) is composed before shaping.
        let decomposed: String = "Đoàn tổng kết".nfd().collect();
        assert_eq!(clean(&decomposed), "Đoàn tổng kết");
    }

    #[test]
    fn widths_come_from_the_font() {
        let fonts = Fonts::load();
        let wide = shape(&fonts.regular, 10.0, "WWWW").width;
        let narrow = shape(&fonts.regular, 10.0, "iiii").width;
        assert!(wide > 2.0 * narrow, "W {wide} vs i {narrow}");
        assert!(
            (shape(&fonts.regular, 20.0, "Đoàn").width - 2.0 * shape(&fonts.regular, 10.0, "Đoàn").width).abs() < 0.01
        );
        assert!(shape(&fonts.bold, 10.0, "Hồ Chí Minh").width > shape(&fonts.regular, 10.0, "Hồ Chí Minh").width);
    }

    #[test]
    fn wrapping_keeps_lines_within_the_width() {
        let fonts = Fonts::load();
        let lines = wrap(&fonts.regular, CELL.size, LONG_LABEL, 200.0);
        assert!(lines.len() >= 3, "{} lines", lines.len());
        assert!(lines.iter().all(|line| line.width <= 200.0));
        let joined = lines.iter().map(|line| line.text.as_str()).collect::<Vec<_>>().join(" ");
        assert_eq!(joined, LONG_LABEL.split_whitespace().collect::<Vec<_>>().join(" "));

        // A word wider than the column is broken between letters, marks kept with their letter.
        let word = format!("Đoàn{}", "ườ\u{0301}".repeat(60));
        let pieces = wrap(&fonts.regular, CELL.size, &word, 80.0);
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|line| line.width <= 80.0 && !line.text.starts_with(is_combining_mark)));
        assert_eq!(pieces.iter().map(|line| line.text.as_str()).collect::<String>(), clean(&word));

        assert!(wrap(&fonts.regular, CELL.size, "  \n ", 100.0).is_empty());
    }

    #[test]
    fn layout_aligns_columns_flows_rows_and_numbers_pages() {
        let fonts = Fonts::load();
        let pages = layout(&sample(), &fonts);
        assert!(pages.len() > 1, "{} pages", pages.len());
        let total = pages.len();
        for (index, page) in pages.iter().enumerate() {
            let texts = texts(page);
            let numbers: Vec<_> = texts.iter().filter(|(line, ..)| line.text.starts_with("Trang ")).collect();
            assert_eq!(numbers.len(), 1);
            assert_eq!(numbers[0].0.text, format!("Trang {}/{}", index + 1, total));
            for (line, x, baseline, style) in &texts {
                assert!(
                    *x >= MARGIN - 0.01 && x + line.width <= MARGIN + CONTENT_WIDTH + 0.01,
                    "{} out of the margins",
                    line.text
                );
                if !line.text.starts_with("Trang ") {
                    assert!(*baseline > CONTENT_TOP && *baseline <= CONTENT_BOTTOM, "{} at {baseline}", line.text);
                }
                // Lines never overlap: baselines of the same column differ by at least a line.
                for (other, other_x, other_baseline, _) in &texts {
                    if !std::ptr::eq(*line, *other) && (x - other_x).abs() < 0.01 {
                        assert!((baseline - other_baseline).abs() >= style.leading.min(CELL.leading) - 0.01);
                    }
                }
            }
        }
        let all: Vec<_> = pages.iter().flat_map(|page| texts(page)).collect();
        // Values end exactly at the right margin.
        for value in ["12", "1.234.567.000", "3.456", "789", "5.678"] {
            let (line, x, ..) = all
                .iter()
                .find(|(line, ..)| line.text == value)
                .copied()
                .unwrap_or_else(|| panic!("{value} not drawn"));
            assert!((x + line.width - (MARGIN + CONTENT_WIDTH)).abs() < 0.01, "{value} not right-aligned");
        }
        // The long label wrapped, each piece starting at the left margin, left of the values.
        let value_left = all.iter().find(|(line, ..)| line.text == "1.234.567.000").map(|(_, x, ..)| *x).unwrap_or(0.0);
        let label_lines: Vec<_> =
            all.iter().filter(|(line, ..)| LONG_LABEL.contains(line.text.as_str()) && line.text.len() > 5).collect();
        assert!(label_lines.len() >= 2);
        assert!(label_lines.iter().all(|(line, x, ..)| (*x - MARGIN).abs() < 0.01 && x + line.width < value_left));
        // The footer is on the last page, at the bottom.
        let last = texts(&pages[total - 1]);
        let (_, _, footer_baseline, _) = last
            .iter()
            .find(|(line, ..)| line.text.starts_with("TM. BAN"))
            .copied()
            .unwrap_or_else(|| panic!("no footer"));
        assert!(footer_baseline > CONTENT_BOTTOM - FOOTER.leading);
    }

    #[test]
    fn renders_a_vietnamese_report_across_pages() -> anyhow::Result<()> {
        let report = sample();
        let bytes = render(&report)?;
        assert!(bytes.starts_with(b"%PDF-"));
        // DOAN_PDF_SAMPLE=/tmp/review-sample.pdf keeps a copy to look at.
        if let Some(path) = std::env::var_os("DOAN_PDF_SAMPLE") {
            std::fs::write(path, &bytes)?;
        }

        let dir = std::env::temp_dir().join(format!("doan-pdf-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let pdf = dir.join("report.pdf");
        std::fs::write(&pdf, &bytes)?;
        let extracted =
            match std::process::Command::new("pdftotext").arg("-enc").arg("UTF-8").arg(&pdf).arg("-").output() {
                Ok(output) if output.status.success() => String::from_utf8(output.stdout)?,
                Ok(output) => anyhow::bail!("pdftotext failed: {}", String::from_utf8_lossy(&output.stderr)),
                Err(error) => {
                    eprintln!("pdftotext not available ({error}); skipping the text extraction check");
                    std::fs::remove_dir_all(&dir)?;
                    return Ok(());
                }
            };
        std::fs::remove_dir_all(&dir)?;
        for expected in [
            "Công trình thanh niên",
            "Đơn vị máu",
            "1.234.567.000",
            "Trang 1/",
            "BÁO CÁO TỔNG KẾT NĂM 2026 — Thành đoàn Hà Nội",
            "Hồ Chí Minh",
            "Chi đoàn số 80 — hoạt động tình nguyện",
            "TM. BAN THƯỜNG VỤ THÀNH ĐOÀN",
        ] {
            assert!(extracted.contains(expected), "{expected:?} not in the extracted text:\n{extracted}");
        }
        let pages = extracted.matches('\u{c}').count();
        assert!(pages > 1, "{pages} pages");
        assert!(extracted.contains(&format!("Trang {pages}/{pages}")));
        Ok(())
    }

    #[test]
    fn renders_an_empty_report() -> anyhow::Result<()> {
        let bytes = render(&Report::default())?;
        assert!(bytes.starts_with(b"%PDF-"));
        let pages = layout(&Report::default(), &Fonts::load());
        assert_eq!(pages.len(), 1);

        let titled = Report { title: "Báo cáo".to_owned(), ..Report::default() };
        assert!(render(&titled)?.starts_with(b"%PDF-"));
        Ok(())
    }
}
