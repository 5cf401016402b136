//! Recipients as others see them.

/// A person's name as a public verifier sees it: the given name (the last word, as
/// Vietnamese names are written) in full, every other word as its initial. "Nguyễn Văn An"
/// → "N. V. An".
pub fn masked_name(full_name: &str) -> String {
    let words: Vec<&str> = full_name.split_whitespace().collect();
    let Some((given, others)) = words.split_last() else { return String::new() };
    let mut out: Vec<String> =
        others.iter().filter_map(|w| w.chars().next()).map(|c| format!("{}.", c.to_uppercase())).collect();
    out.push((*given).to_string());
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_given_name_is_shown_in_full() {
        assert_eq!(masked_name("Nguyễn Văn An"), "N. V. An");
        assert_eq!(masked_name("  Đặng   thị  Ánh Tuyết "), "Đ. T. Á. Tuyết");
        assert_eq!(masked_name("An"), "An");
        assert_eq!(masked_name(""), "");
    }
}
