//! Case-insensitive substring search that behaves the same on both backends: the searchable
//! text is stored lower-cased by Rust (`str::to_lowercase`, which knows ā, č, š …) and the
//! lower-cased term is matched with a plain `LIKE … ESCAPE '\'`.

use diesel::dsl;
use diesel::expression::AsExpression;
use diesel::prelude::{EscapeExpressionMethods, TextExpressionMethods};
use diesel::sql_types::SqlType;

/// The escape character of every pattern.
const ESCAPE: char = '\\';

/// Separates the parts of a combined search column (document name, initiator name, signer
/// names …), so that a term cannot match across two of them unless it contains this
/// character.
const SEPARATOR: &str = "\u{1f}";

/// `%term%` with `%`, `_` and `\` of the term escaped, lower-cased: `50%_Ā` becomes
/// `%50\%\_ā%`.
pub(crate) fn contains_pattern(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('%');
    for c in term.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push(ESCAPE);
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `col LIKE '%term%' ESCAPE '\'` ([`contains_pattern`]): `col` contains `term`.
pub(crate) fn contains<C>(col: C, term: &str) -> dsl::Escape<dsl::Like<C, String>>
where
    C: TextExpressionMethods<SqlType: SqlType>,
    String: AsExpression<C::SqlType>,
    dsl::Like<C, String>: EscapeExpressionMethods,
{
    col.like(contains_pattern(term)).escape(ESCAPE)
}

/// The lower-cased copy of an optional text.
pub(crate) fn lower(text: Option<&str>) -> Option<String> {
    text.map(str::to_lowercase)
}

/// The lower-cased parts joined into one search column.
pub(crate) fn combined<'a>(parts: impl IntoIterator<Item = Option<&'a str>>) -> String {
    parts
        .into_iter()
        .flatten()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(SEPARATOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_the_escape_character_of_a_term_are_escaped() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn terms_and_columns_are_lower_cased_beyond_ascii() {
        assert_eq!(contains_pattern("ĀBOLS Čaks"), "%ābols čaks%");
        assert_eq!(
            combined([Some("Līgums"), None, Some("ŠĶĒRSTE")]),
            "līgums\u{1f}šķērste"
        );
    }
}
