//! Validated value types: email addresses, ISO 3166-1 country codes and national personal codes.
//!
//! Each type can only be built through a checking constructor (`parse`), so holding one means the
//! value was valid when it entered the system. Values read back from storage are trusted.

mod country;
mod email;
mod personal_code;

pub use country::CountryCode;
pub use email::Email;
pub use personal_code::{PersonalCode, normalize_personal_code};

/// Why a raw string is not a valid value.
///
/// The messages are short English predicates shown to API users, meant to follow the field name
/// (e.g. "email is not a valid email address"). No message ever contains the rejected value, so a
/// personal code can never leak through an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The value is empty or only whitespace.
    #[error("must not be empty")]
    Empty,
    /// The value is longer than allowed.
    #[error("must be at most {max} characters long")]
    TooLong {
        /// The maximum allowed length.
        max: usize,
    },
    /// The value is not an acceptable email address.
    #[error("is not a valid email address")]
    Email,
    /// The value is not an officially assigned ISO 3166-1 alpha-2 code.
    #[error("is not an ISO 3166-1 alpha-2 country code")]
    Country,
    /// The personal code does not have the shape required for its country.
    #[error("{}", personal_code_format_message(.country))]
    PersonalCodeFormat {
        /// The country whose rules the code was checked against.
        country: CountryCode,
    },
    /// The century digit of a personal code is not one of the allowed values.
    #[error("has an invalid century digit")]
    PersonalCodeCentury,
    /// The date of birth encoded in a personal code does not exist.
    #[error("does not contain a valid date of birth")]
    PersonalCodeDate,
    /// The check digit of a personal code does not match the other digits.
    #[error("has a wrong check digit")]
    PersonalCodeCheckDigit,
}

fn personal_code_format_message(country: &CountryCode) -> &'static str {
    match *country {
        CountryCode::LV => "is not a valid Latvian personal code",
        CountryCode::EE => "is not a valid Estonian personal code",
        CountryCode::LT => "is not a valid Lithuanian personal code",
        _ => "is not a valid personal code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_error_message_names_the_baltic_nationality() {
        let message = |country| ValueError::PersonalCodeFormat { country }.to_string();
        assert_eq!(
            message(CountryCode::LV),
            "is not a valid Latvian personal code"
        );
        assert_eq!(
            message(CountryCode::EE),
            "is not a valid Estonian personal code"
        );
        assert_eq!(
            message(CountryCode::LT),
            "is not a valid Lithuanian personal code"
        );
        let finland = CountryCode::parse("FI").map_err(|e| e.to_string());
        assert_eq!(
            finland.map(message),
            Ok("is not a valid personal code".to_owned())
        );
    }

    #[test]
    fn simple_error_messages_are_short_sentences() {
        assert_eq!(ValueError::Empty.to_string(), "must not be empty");
        assert_eq!(
            ValueError::TooLong { max: 32 }.to_string(),
            "must be at most 32 characters long"
        );
        assert_eq!(
            ValueError::Email.to_string(),
            "is not a valid email address"
        );
        assert_eq!(
            ValueError::Country.to_string(),
            "is not an ISO 3166-1 alpha-2 country code"
        );
        assert_eq!(
            ValueError::PersonalCodeCheckDigit.to_string(),
            "has a wrong check digit"
        );
    }
}
