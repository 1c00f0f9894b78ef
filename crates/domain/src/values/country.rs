//! ISO 3166-1 alpha-2 country codes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ValueError;

/// The 249 officially assigned ISO 3166-1 alpha-2 codes, sorted so that they can be binary-searched.
const ASSIGNED: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// An ISO 3166-1 alpha-2 country code in upper case, e.g. `LV`.
///
/// Only officially assigned codes are accepted. Serialized as its two-letter string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Latvia.
    pub const LV: Self = Self(*b"LV");
    /// Estonia.
    pub const EE: Self = Self(*b"EE");
    /// Lithuania.
    pub const LT: Self = Self(*b"LT");

    /// Parses a country code: the input is trimmed and upper-cased first, so `" lv "` gives `LV`.
    ///
    /// # Errors
    ///
    /// [`ValueError::Empty`] for blank input, [`ValueError::Country`] when the result is not an
    /// officially assigned ISO 3166-1 alpha-2 code (e.g. `XX`).
    ///
    /// ```
    /// use pas_domain::values::CountryCode;
    ///
    /// assert_eq!(CountryCode::parse("lv"), Ok(CountryCode::LV));
    /// assert!(CountryCode::parse("XX").is_err());
    /// ```
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let candidate = raw.trim().to_ascii_uppercase();
        if candidate.is_empty() {
            return Err(ValueError::Empty);
        }
        if ASSIGNED.binary_search(&candidate.as_str()).is_err() {
            return Err(ValueError::Country);
        }
        let bytes = <[u8; 2]>::try_from(candidate.as_bytes()).map_err(|_| ValueError::Country)?;
        Ok(Self(bytes))
    }

    /// The two upper-case letters, e.g. `"LV"`.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII letters: `parse` and the constants are the only constructors.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CountryCode").field(&self.as_str()).finish()
    }
}

impl FromStr for CountryCode {
    type Err = ValueError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigned_list_is_sorted_unique_upper_case_pairs() {
        assert!(ASSIGNED.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(
            ASSIGNED
                .iter()
                .all(|code| { code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) })
        );
    }

    #[test]
    fn every_assigned_code_parses_to_itself() {
        for code in ASSIGNED {
            assert_eq!(
                CountryCode::parse(code).map(|c| c.to_string()),
                Ok(code.to_owned())
            );
        }
    }

    #[test]
    fn parse_is_case_insensitive_and_trims() {
        assert_eq!(CountryCode::parse("lv"), Ok(CountryCode::LV));
        assert_eq!(CountryCode::parse(" Ee\t"), Ok(CountryCode::EE));
        assert_eq!(CountryCode::parse("lT"), Ok(CountryCode::LT));
    }

    #[test]
    fn unassigned_code_xx_is_rejected() {
        assert_eq!(CountryCode::parse("XX"), Err(ValueError::Country));
        assert_eq!(CountryCode::parse("UK"), Err(ValueError::Country));
    }

    #[test]
    fn wrong_length_and_non_letters_are_rejected() {
        for raw in ["L", "LVA", "L V", "12", "Ľ", "ÅX", "LV\u{0}"] {
            assert_eq!(CountryCode::parse(raw), Err(ValueError::Country), "{raw:?}");
        }
    }

    #[test]
    fn empty_and_blank_input_is_rejected_as_empty() {
        assert_eq!(CountryCode::parse(""), Err(ValueError::Empty));
        assert_eq!(CountryCode::parse("  "), Err(ValueError::Empty));
    }

    #[test]
    fn display_debug_and_from_str_use_the_letters() {
        let code: Result<CountryCode, _> = "de".parse();
        assert_eq!(
            code.map(|c| (c.to_string(), format!("{c:?}"))),
            Ok(("DE".to_owned(), "CountryCode(\"DE\")".to_owned()))
        );
        assert_eq!(format!("{:?}", CountryCode::LV), "CountryCode(\"LV\")");
    }

    #[test]
    fn serde_round_trip_is_a_plain_string() {
        let json = serde_json::to_string(&CountryCode::LT).map_err(|e| e.to_string());
        assert_eq!(json.as_deref(), Ok("\"LT\""));
        let back: Result<CountryCode, _> = serde_json::from_str("\"lt\"");
        assert_eq!(back.ok(), Some(CountryCode::LT));
    }

    #[test]
    fn deserialize_rejects_unknown_code() {
        let parsed: Result<CountryCode, _> = serde_json::from_str("\"XX\"");
        let message = parsed.map_err(|e| e.to_string()).err().unwrap_or_default();
        assert!(
            message.contains("is not an ISO 3166-1 alpha-2 country code"),
            "{message}"
        );
    }
}
