//! National personal identification codes, checked by the rules of their country.

use std::fmt;

use serde::{Serialize, Serializer};
use time::{Date, Month};

use super::{CountryCode, ValueError};

/// Longest accepted personal code, in characters, after trimming.
const MAX_LEN: usize = 32;
/// Weights of the Latvian check digit.
const LV_WEIGHTS: [u32; 10] = [1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// First and second weight sets of the Estonian and Lithuanian check digit.
const BALTIC_WEIGHTS_1: [u32; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1];
const BALTIC_WEIGHTS_2: [u32; 10] = [3, 4, 5, 6, 7, 8, 9, 1, 2, 3];

/// A person's national identification code, valid for its country.
///
/// Holds the trimmed input as given (e.g. `161175-19997`); use [`PersonalCode::normalized`] to
/// compare or index. Personal codes must never reach logs, so `Debug` prints `PersonalCode(***)`
/// and there is no `Display`: call [`PersonalCode::as_str`] explicitly where the code is needed.
/// Serialized as the stored string; there is no `Deserialize` because checking needs the country.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonalCode(String);

impl PersonalCode {
    /// Validates `raw` for `country` and keeps it trimmed but otherwise as written.
    ///
    /// - `LV`: 11 digits, optionally with one hyphen after the 6th (`DDMMYY-CNNNN`). Codes starting
    ///   with `32` (issued since 2017) carry no date and no check digit. Otherwise `DDMMYY` must be
    ///   a real date, `C` the century (0: 1800s, 1: 1900s, 2: 2000s) and the last digit the check
    ///   digit.
    /// - `EE`, `LT`: exactly 11 digits `GYYMMDDSSSC`; `G` 1 to 6 gives the century (1-2: 1800s,
    ///   3-4: 1900s, 5-6: 2000s) and `YYMMDD` must be a real date; `LT` also allows `G` = 9
    ///   (special codes, no date). The last digit is the two-stage modulo-11 check digit.
    /// - Any other country: up to 32 ASCII letters, digits, spaces and hyphens, with at least one
    ///   letter or digit.
    ///
    /// # Errors
    ///
    /// [`ValueError::Empty`], [`ValueError::TooLong`] (over 32 characters),
    /// [`ValueError::PersonalCodeFormat`], [`ValueError::PersonalCodeCentury`],
    /// [`ValueError::PersonalCodeDate`] or [`ValueError::PersonalCodeCheckDigit`]. No error
    /// contains the code itself.
    ///
    /// ```
    /// use pas_domain::values::{CountryCode, PersonalCode, ValueError};
    ///
    /// let code = PersonalCode::parse(" 161175-19997 ", CountryCode::LV)?;
    /// assert_eq!(code.as_str(), "161175-19997");
    /// assert_eq!(code.normalized(), "16117519997");
    ///
    /// assert!(PersonalCode::parse("37605030299", CountryCode::EE).is_ok());
    /// assert_eq!(
    ///     PersonalCode::parse("37605030298", CountryCode::EE),
    ///     Err(ValueError::PersonalCodeCheckDigit)
    /// );
    /// # Ok::<(), ValueError>(())
    /// ```
    pub fn parse(raw: &str, country: CountryCode) -> Result<Self, ValueError> {
        let code = raw.trim();
        if code.is_empty() {
            return Err(ValueError::Empty);
        }
        if code.chars().count() > MAX_LEN {
            return Err(ValueError::TooLong { max: MAX_LEN });
        }
        match country {
            CountryCode::LV => check_latvian(code)?,
            CountryCode::EE | CountryCode::LT => check_estonian_or_lithuanian(code, country)?,
            _ => check_free_form(code, country)?,
        }
        Ok(Self(code.to_owned()))
    }

    /// Wraps a value read back from storage, which was validated when written. No checks.
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    /// The code as stored (trimmed input, separators kept).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for matching and indexing: [`normalize_personal_code`] of [`Self::as_str`].
    pub fn normalized(&self) -> String {
        normalize_personal_code(&self.0)
    }
}

/// Removes whitespace (spaces included) and hyphens and upper-cases the rest, so that
/// `"161175-19997"` and `"161175 19997"` both become `"16117519997"`.
pub fn normalize_personal_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_uppercase()
}

fn check_latvian(code: &str) -> Result<(), ValueError> {
    let format_error = ValueError::PersonalCodeFormat {
        country: CountryCode::LV,
    };
    let compact = match code.split_once('-') {
        Some((head, tail)) if head.len() == 6 => format!("{head}{tail}"),
        Some(_) => return Err(format_error),
        None => code.to_owned(),
    };
    let d = eleven_digits(&compact).ok_or(format_error)?;
    if d[0] == 3 && d[1] == 2 {
        // The newer form carries neither a date nor a check digit.
        return Ok(());
    }
    let century = match d[6] {
        0 => 1800,
        1 => 1900,
        2 => 2000,
        _ => return Err(ValueError::PersonalCodeCentury),
    };
    let year = century + i32::from(two_digits(d[4], d[5]));
    if !is_real_date(year, two_digits(d[2], d[3]), two_digits(d[0], d[1])) {
        return Err(ValueError::PersonalCodeDate);
    }
    // The weighted sum is at most 9 * 55 = 495, so the subtraction cannot underflow.
    // A result of 10 never equals a digit, so such codes are rejected too.
    if (1101 - weighted_sum(&d, LV_WEIGHTS)) % 11 != u32::from(d[10]) {
        return Err(ValueError::PersonalCodeCheckDigit);
    }
    Ok(())
}

fn check_estonian_or_lithuanian(code: &str, country: CountryCode) -> Result<(), ValueError> {
    let d = eleven_digits(code).ok_or(ValueError::PersonalCodeFormat { country })?;
    let century = match d[0] {
        1 | 2 => Some(1800),
        3 | 4 => Some(1900),
        5 | 6 => Some(2000),
        9 if country == CountryCode::LT => None,
        _ => return Err(ValueError::PersonalCodeCentury),
    };
    if let Some(century) = century {
        let year = century + i32::from(two_digits(d[1], d[2]));
        if !is_real_date(year, two_digits(d[3], d[4]), two_digits(d[5], d[6])) {
            return Err(ValueError::PersonalCodeDate);
        }
    }
    let check = match weighted_sum(&d, BALTIC_WEIGHTS_1) % 11 {
        10 => match weighted_sum(&d, BALTIC_WEIGHTS_2) % 11 {
            10 => 0,
            second => second,
        },
        first => first,
    };
    if check != u32::from(d[10]) {
        return Err(ValueError::PersonalCodeCheckDigit);
    }
    Ok(())
}

fn check_free_form(code: &str, country: CountryCode) -> Result<(), ValueError> {
    let allowed = code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
    let has_letter_or_digit = code.chars().any(|c| c.is_ascii_alphanumeric());
    if allowed && has_letter_or_digit {
        Ok(())
    } else {
        Err(ValueError::PersonalCodeFormat { country })
    }
}

/// The digit values of `code` if it is exactly 11 ASCII digits.
fn eleven_digits(code: &str) -> Option<[u8; 11]> {
    let bytes: [u8; 11] = code.as_bytes().try_into().ok()?;
    bytes
        .iter()
        .all(u8::is_ascii_digit)
        .then(|| bytes.map(|b| b - b'0'))
}

fn two_digits(tens: u8, ones: u8) -> u8 {
    tens * 10 + ones
}

/// Sum of the first ten digits times their weights.
fn weighted_sum(digits: &[u8; 11], weights: [u32; 10]) -> u32 {
    digits
        .iter()
        .zip(weights)
        .map(|(&digit, weight)| u32::from(digit) * weight)
        .sum()
}

fn is_real_date(year: i32, month: u8, day: u8) -> bool {
    Month::try_from(month).is_ok_and(|month| Date::from_calendar_date(year, month, day).is_ok())
}

impl fmt::Debug for PersonalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonalCode(***)")
    }
}

impl Serialize for PersonalCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LV: CountryCode = CountryCode::LV;
    const EE: CountryCode = CountryCode::EE;
    const LT: CountryCode = CountryCode::LT;

    fn error(raw: &str, country: CountryCode) -> Option<ValueError> {
        PersonalCode::parse(raw, country).err()
    }

    fn accepted(raw: &str, country: CountryCode) -> bool {
        PersonalCode::parse(raw, country).is_ok()
    }

    fn other_country(code: &str) -> CountryCode {
        CountryCode::parse(code).unwrap_or(CountryCode::LV)
    }

    fn digit_values(digits: &str) -> Vec<u32> {
        digits.chars().filter_map(|c| c.to_digit(10)).collect()
    }

    /// Sum of the first ten digits of `digits` times `weights`, modulo 11 (the published rule).
    fn mod11(digits: &str, weights: [u32; 10]) -> u32 {
        let sum: u32 = digit_values(digits)
            .iter()
            .zip(weights)
            .map(|(d, w)| d * w)
            .sum();
        sum % 11
    }

    /// `first10` followed by its Estonian/Lithuanian check digit.
    fn with_baltic_check(first10: &str) -> String {
        let check = match mod11(first10, [1, 2, 3, 4, 5, 6, 7, 8, 9, 1]) {
            10 => match mod11(first10, [3, 4, 5, 6, 7, 8, 9, 1, 2, 3]) {
                10 => 0,
                s => s,
            },
            s => s,
        };
        format!("{first10}{check}")
    }

    /// A Latvian `DDMMYY-CNNNN` code for the date and century digit with a correct check digit
    /// (the first serial number whose check value is not 10).
    fn latvian(ddmmyy: &str, century: char) -> String {
        (0..1000)
            .find_map(|serial| {
                let first10 = format!("{ddmmyy}{century}{serial:03}");
                let sum: u32 = digit_values(&first10)
                    .iter()
                    .zip([1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
                    .map(|(d, w)| d * w)
                    .sum();
                let check = (1101 - sum) % 11;
                (check < 10).then(|| format!("{ddmmyy}-{century}{serial:03}{check}"))
            })
            .unwrap_or_default()
    }

    #[test]
    fn published_estonian_examples_are_valid() {
        assert!(accepted("37605030299", EE));
        assert!(accepted("49403136515", EE));
    }

    #[test]
    fn published_lithuanian_example_is_valid() {
        assert!(accepted("33309240064", LT));
    }

    #[test]
    fn published_latvian_example_is_valid_with_and_without_hyphen() {
        assert!(accepted("161175-19997", LV));
        assert!(accepted("16117519997", LV));
    }

    #[test]
    fn generated_estonian_and_lithuanian_codes_are_valid_in_every_century() {
        for first10 in [
            "1991231000",
            "2000101123",
            "3760503029",
            "4940313651",
            "5000229123",
            "6231130999",
        ] {
            let code = with_baltic_check(first10);
            assert!(accepted(&code, EE), "{code}");
            assert!(accepted(&code, LT), "{code}");
        }
    }

    #[test]
    fn second_weight_set_is_used_when_the_first_gives_ten() {
        let first10 = (0..1000)
            .map(|serial| format!("3760503{serial:03}"))
            .find(|first10| mod11(first10, [1, 2, 3, 4, 5, 6, 7, 8, 9, 1]) == 10);
        let code = first10
            .as_deref()
            .map(with_baltic_check)
            .unwrap_or_default();
        assert!(accepted(&code, EE), "{code}");
    }

    #[test]
    fn check_digit_is_zero_when_both_weight_sets_give_ten() {
        let first10 = (0..1000)
            .map(|serial| format!("4940313{serial:03}"))
            .find(|first10| {
                mod11(first10, [1, 2, 3, 4, 5, 6, 7, 8, 9, 1]) == 10
                    && mod11(first10, [3, 4, 5, 6, 7, 8, 9, 1, 2, 3]) == 10
            });
        let code = first10
            .map(|first10| format!("{first10}0"))
            .unwrap_or_default();
        assert!(accepted(&code, LT), "{code}");
    }

    #[test]
    fn generated_latvian_codes_are_valid_in_every_century() {
        for (date, century) in [
            ("010100", '0'),
            ("311299", '1'),
            ("290200", '2'),
            ("150624", '2'),
        ] {
            let code = latvian(date, century);
            assert!(accepted(&code, LV), "{code}");
            assert!(accepted(&code.replace('-', ""), LV), "{code}");
        }
    }

    #[test]
    fn wrong_check_digit_is_rejected() {
        let wrong = Some(ValueError::PersonalCodeCheckDigit);
        assert_eq!(error("37605030298", EE), wrong);
        assert_eq!(error("49403136516", EE), wrong);
        assert_eq!(error("33309240065", LT), wrong);
        assert_eq!(error("161175-19998", LV), wrong);
    }

    #[test]
    fn latvian_impossible_dates_are_rejected() {
        let date = Some(ValueError::PersonalCodeDate);
        assert_eq!(error(&latvian("310299", '1'), LV), date);
        assert_eq!(error(&latvian("001175", '1'), LV), date);
        assert_eq!(error(&latvian("011375", '1'), LV), date);
        assert_eq!(error(&latvian("290201", '2'), LV), date);
        assert_eq!(
            error(&latvian("290200", '1'), LV),
            date,
            "1900 was not a leap year"
        );
    }

    #[test]
    fn estonian_and_lithuanian_impossible_dates_are_rejected() {
        let date = Some(ValueError::PersonalCodeDate);
        assert_eq!(error(&with_baltic_check("3990230001"), EE), date);
        assert_eq!(error(&with_baltic_check("6010229001"), EE), date);
        assert_eq!(error(&with_baltic_check("4991301001"), LT), date);
        assert_eq!(error(&with_baltic_check("3990100001"), LT), date);
    }

    #[test]
    fn bad_century_digit_is_rejected() {
        let century = Some(ValueError::PersonalCodeCentury);
        assert_eq!(error("161175-39997", LV), century);
        assert_eq!(error("161175-99997", LV), century);
        for first in ['0', '7', '8', '9'] {
            assert_eq!(
                error(&with_baltic_check(&format!("{first}760503029")), EE),
                century
            );
        }
        for first in ['0', '7', '8'] {
            assert_eq!(
                error(&with_baltic_check(&format!("{first}760503029")), LT),
                century
            );
        }
    }

    #[test]
    fn lithuanian_special_codes_starting_with_nine_skip_the_date_check() {
        let code = with_baltic_check("9999999999");
        assert!(accepted(&code, LT), "{code}");
        let wrong = format!(
            "9999999999{}",
            (u32::from(code.as_bytes()[10] - b'0') + 1) % 10
        );
        assert_eq!(error(&wrong, LT), Some(ValueError::PersonalCodeCheckDigit));
    }

    #[test]
    fn latvian_new_form_starting_with_32_needs_no_date_or_check_digit() {
        assert!(accepted("32123456789", LV));
        assert!(accepted("321234-56780", LV));
        assert!(accepted("32000000000", LV));
    }

    #[test]
    fn latvian_new_form_with_wrong_length_is_rejected() {
        let format = Some(ValueError::PersonalCodeFormat { country: LV });
        assert_eq!(error("3212345678", LV), format);
        assert_eq!(error("321234567890", LV), format);
    }

    #[test]
    fn latvian_hyphen_in_the_wrong_place_is_rejected() {
        let format = Some(ValueError::PersonalCodeFormat { country: LV });
        for raw in [
            "16117-519997",
            "1611751-9997",
            "161175--19997",
            "161175-1999-7",
            "-16117519997",
            "321234567-89",
        ] {
            assert_eq!(error(raw, LV), format, "{raw}");
        }
    }

    #[test]
    fn latvian_space_separator_is_rejected() {
        assert_eq!(
            error("161175 19997", LV),
            Some(ValueError::PersonalCodeFormat { country: LV })
        );
    }

    #[test]
    fn letters_in_baltic_codes_are_rejected() {
        assert_eq!(
            error("16117A-19997", LV),
            Some(ValueError::PersonalCodeFormat { country: LV })
        );
        assert_eq!(
            error("3760503029A", EE),
            Some(ValueError::PersonalCodeFormat { country: EE })
        );
        assert_eq!(
            error("LT309240064", LT),
            Some(ValueError::PersonalCodeFormat { country: LT })
        );
    }

    #[test]
    fn estonian_and_lithuanian_separators_and_wrong_lengths_are_rejected() {
        for raw in ["376050-30299", "3760503 0299", "3760503029", "376050302990"] {
            assert_eq!(
                error(raw, EE),
                Some(ValueError::PersonalCodeFormat { country: EE }),
                "{raw}"
            );
            assert_eq!(
                error(raw, LT),
                Some(ValueError::PersonalCodeFormat { country: LT }),
                "{raw}"
            );
        }
    }

    #[test]
    fn empty_and_whitespace_input_is_rejected_for_every_country() {
        for country in [LV, EE, LT, other_country("FI")] {
            assert_eq!(error("", country), Some(ValueError::Empty));
            assert_eq!(error(" \t\n", country), Some(ValueError::Empty));
        }
    }

    #[test]
    fn code_longer_than_32_characters_is_rejected() {
        let fi = other_country("FI");
        assert!(accepted(&"A".repeat(32), fi));
        assert_eq!(
            error(&"A".repeat(33), fi),
            Some(ValueError::TooLong { max: 32 })
        );
        assert_eq!(
            error(&"1".repeat(33), LV),
            Some(ValueError::TooLong { max: 32 })
        );
    }

    #[test]
    fn other_countries_accept_free_form_letters_digits_spaces_and_hyphens() {
        assert!(accepted("131052-308T", other_country("FI")));
        assert!(accepted("QQ 12 34 56 C", other_country("GB")));
        assert!(accepted("x", other_country("DE")));
    }

    #[test]
    fn other_countries_reject_punctuation_non_ascii_and_separators_only() {
        let fi = other_country("FI");
        for raw in ["131052/308T", "12_34", "ÄÖ12", "- -", "12.34"] {
            assert_eq!(
                error(raw, fi),
                Some(ValueError::PersonalCodeFormat { country: fi }),
                "{raw}"
            );
        }
    }

    #[test]
    fn parse_keeps_the_trimmed_input_as_written() {
        let lv = PersonalCode::parse(" 161175-19997\n", LV).map(|c| c.as_str().to_owned());
        assert_eq!(lv, Ok("161175-19997".to_owned()));
        let fi =
            PersonalCode::parse("131052-308t", other_country("FI")).map(|c| c.as_str().to_owned());
        assert_eq!(fi, Ok("131052-308t".to_owned()));
    }

    #[test]
    fn normalization_removes_spaces_and_hyphens_and_upper_cases() {
        assert_eq!(normalize_personal_code("161175-19997"), "16117519997");
        assert_eq!(normalize_personal_code("161175 19997"), "16117519997");
        assert_eq!(normalize_personal_code(" ab-12 cd\t3 "), "AB12CD3");
    }

    #[test]
    fn normalized_forms_of_hyphenated_and_compact_codes_match() {
        let with_hyphen = PersonalCode::parse("161175-19997", LV).map(|c| c.normalized());
        let compact = PersonalCode::parse("16117519997", LV).map(|c| c.normalized());
        assert_eq!(with_hyphen, Ok("16117519997".to_owned()));
        assert_eq!(with_hyphen, compact);
    }

    #[test]
    fn debug_does_not_reveal_the_code() {
        let code = PersonalCode::parse("161175-19997", LV);
        let debug = format!("{code:?}");
        assert_eq!(debug, "Ok(PersonalCode(***))");
        assert!(!debug.chars().any(|c| c.is_ascii_digit()), "{debug}");
        assert_eq!(
            format!("{:?}", PersonalCode::from_stored("37605030299".into())),
            "PersonalCode(***)"
        );
    }

    #[test]
    fn errors_never_contain_the_rejected_code() {
        let cases = [
            ("161175-19998", LV),
            ("310299-19997", LV),
            ("161175-39997", LV),
            ("37605030298", EE),
            ("3760503029A", EE),
            ("131052/308T", other_country("FI")),
        ];
        for (raw, country) in cases {
            let message = error(raw, country)
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(!message.is_empty(), "{country} case should fail");
            assert!(!message.chars().any(|c| c.is_ascii_digit()), "{message}");
        }
    }

    #[test]
    fn serializes_as_the_stored_string() {
        let code = PersonalCode::parse("161175-19997", LV);
        let json = code.map(|c| serde_json::to_string(&c).map_err(|e| e.to_string()));
        assert_eq!(json, Ok(Ok("\"161175-19997\"".to_owned())));
    }

    #[test]
    fn from_stored_keeps_the_value_without_checks() {
        let stored = PersonalCode::from_stored("  not checked ".to_owned());
        assert_eq!(stored.as_str(), "  not checked ");
        assert_eq!(stored.normalized(), "NOTCHECKED");
    }

    #[test]
    fn doc_example_of_parse_holds() {
        let code = PersonalCode::parse(" 161175-19997 ", LV);
        assert_eq!(code.as_ref().map(PersonalCode::as_str), Ok("161175-19997"));
        assert_eq!(code.map(|c| c.normalized()), Ok("16117519997".to_owned()));
        assert!(accepted("37605030299", EE));
        assert_eq!(
            error("37605030298", EE),
            Some(ValueError::PersonalCodeCheckDigit)
        );
    }
}
