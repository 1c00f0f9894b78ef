//! Query parameters and optional JSON bodies.
//!
//! `web::Query` cannot read repeated keys (`sort=a,asc&sort=b`, `scope=PERSONAL&scope=GROUP`)
//! into a list, so handlers read the query string through [`QueryParams`]: every typed getter
//! answers a 400 naming the parameter when a value does not parse.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use pas_domain::paging::{PageRequest, SortField};
use pas_domain::query::PersonKey;
use pas_domain::status::{
    EventType, OutboxChannel, OutboxState, ProcessStatus, ScopeFilter, SignerRole,
};
use pas_domain::visibility::Viewer;
use serde::de::DeserializeOwned;
use time::macros::{format_description, time};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::problem::ApiError;

/// An enumeration of the seed read from a parameter by its wire spelling.
pub trait WireEnum: Sized + Copy + 'static {
    /// Every variant.
    fn all() -> &'static [Self];
    /// The wire spelling.
    fn wire(self) -> &'static str;
}

macro_rules! wire_enum {
    ($($t:ty),+) => {$(
        impl WireEnum for $t {
            fn all() -> &'static [Self] { <$t>::ALL }
            fn wire(self) -> &'static str { self.as_str() }
        }
    )+};
}
wire_enum!(
    ProcessStatus,
    ScopeFilter,
    EventType,
    SignerRole,
    OutboxState,
    OutboxChannel
);

/// The query string as a list of decoded pairs, in order, repeated keys kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams(Vec<(String, String)>);

impl FromRequest for QueryParams {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(Self::parse(req.query_string())))
    }
}

/// Which end of a day a bare date stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayBound {
    /// The day's first instant (`from`).
    Start,
    /// The next day's first instant (an exclusive `to` that includes the day).
    End,
}

impl QueryParams {
    /// Decodes `a=1&b=x%20y&a=2` (`+` is a space).
    pub fn parse(query: &str) -> Self {
        Self(
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first non-blank value of `name`, trimmed.
    pub fn text(&self, name: &str) -> Option<String> {
        self.all(name)
            .map(str::trim)
            .find(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// A required text parameter (400 when absent or blank).
    pub fn required(&self, name: &str) -> Result<String, ApiError> {
        self.text(name)
            .ok_or_else(|| ApiError::bad_parameter(name, "is required"))
    }

    /// A `true`/`false` parameter.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.text(name)
            .map(|v| match v.to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(ApiError::bad_parameter(name, "must be true or false")),
            })
            .transpose()
    }

    /// A whole-number parameter.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.text(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::bad_parameter(name, "must be a whole number"))
            })
            .transpose()
    }

    /// A `YYYY-MM-DD` parameter.
    pub fn date(&self, name: &str) -> Result<Option<Date>, ApiError> {
        self.text(name)
            .map(|v| parse_date(&v).ok_or_else(|| date_error(name)))
            .transpose()
    }

    /// An RFC 3339 instant or a `YYYY-MM-DD` date (UTC), the date standing for `bound`.
    pub fn instant(&self, name: &str, bound: DayBound) -> Result<Option<OffsetDateTime>, ApiError> {
        self.text(name)
            .map(|v| {
                if let Ok(t) =
                    OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc3339)
                {
                    return Ok(t);
                }
                let day = parse_date(&v).ok_or_else(|| {
                    ApiError::bad_parameter(
                        name,
                        "must be an RFC 3339 timestamp or a date YYYY-MM-DD",
                    )
                })?;
                let day = match bound {
                    DayBound::Start => Some(day),
                    DayBound::End => day.next_day(),
                };
                day.map(|d| d.with_time(time!(0:00)).assume_utc())
                    .ok_or_else(|| ApiError::bad_parameter(name, "is out of range"))
            })
            .transpose()
    }

    /// A UUID parameter, as an id type.
    pub fn uuid<T: From<Uuid>>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.text(name)
            .map(|v| {
                Uuid::parse_str(&v)
                    .map(T::from)
                    .map_err(|_| ApiError::bad_parameter(name, "must be a UUID"))
            })
            .transpose()
    }

    /// An enumeration parameter by its seed spelling.
    pub fn wire_enum<T: WireEnum>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.text(name).map(|v| parse_enum(name, &v)).transpose()
    }

    /// A repeatable enumeration parameter (`scope=A&scope=B`, also `scope=A,B`).
    pub fn wire_enums<T: WireEnum>(&self, name: &str) -> Result<Vec<T>, ApiError> {
        self.all(name)
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| parse_enum(name, v))
            .collect()
    }

    /// `page`, `size` and repeatable `sort` (400 on an unknown sort field or a bad number).
    pub fn page<S: SortField>(&self) -> Result<PageRequest<S>, ApiError> {
        let sort: Vec<String> = self.all("sort").map(str::to_owned).collect();
        PageRequest::parse(self.int("page")?, self.int("size")?, &sort)
            .map_err(ApiError::bad_parameters)
    }

    /// A person named by two parameters (`code` and `country`): both or neither (400).
    pub fn person(&self, code: &str, country: &str) -> Result<Option<PersonKey>, ApiError> {
        match (self.text(code), self.text(country)) {
            (None, None) => Ok(None),
            (Some(c), Some(k)) => person(&c, &k).map(Some),
            (Some(_), None) => Err(ApiError::bad_parameter(
                country,
                format!("is required with {code}"),
            )),
            (None, Some(_)) => Err(ApiError::bad_parameter(
                code,
                format!("is required with {country}"),
            )),
        }
    }

    /// The viewer of a contacts or templates call: `user_param` (`owner` or `user`) and
    /// `group`, both required.
    pub fn viewer(&self, user_param: &str) -> Result<Viewer, ApiError> {
        Ok(Viewer::new(
            self.required(user_param)?,
            self.required("group")?,
        ))
    }
}

fn parse_date(v: &str) -> Option<Date> {
    Date::parse(v, format_description!("[year]-[month]-[day]")).ok()
}

fn date_error(name: &str) -> ApiError {
    ApiError::bad_parameter(name, "must be a date YYYY-MM-DD")
}

fn parse_enum<T: WireEnum>(name: &str, value: &str) -> Result<T, ApiError> {
    T::all()
        .iter()
        .copied()
        .find(|v| v.wire() == value)
        .ok_or_else(|| {
            let allowed: Vec<&str> = T::all().iter().map(|v| v.wire()).collect();
            ApiError::bad_parameter(name, format!("must be one of {}", allowed.join(", ")))
        })
}

/// A person named in a path or body (`personCode` + `country`): 400 when malformed.
pub fn person(code: &str, country: &str) -> Result<PersonKey, ApiError> {
    PersonKey::parse(code, country).map_err(ApiError::bad_parameters)
}

/// An optional JSON body: empty means `T::default()`, anything else must be JSON (400 with
/// serde's text otherwise). The size limit is the scope's `PayloadConfig` (413).
pub fn json_or_default<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("malformed JSON body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;
    use pas_domain::paging::{Direction, ProcessSort};
    use time::macros::{date, datetime};

    #[test]
    fn repeated_keys_are_all_kept_and_values_decoded() {
        let q = QueryParams::parse("sort=documentName,asc&sort=createdAt&name=Anna%20K&x=a+b");
        assert_eq!(
            q.all("sort").collect::<Vec<_>>(),
            ["documentName,asc", "createdAt"]
        );
        assert_eq!(q.text("name").as_deref(), Some("Anna K"));
        assert_eq!(q.text("x").as_deref(), Some("a b"));
        let page = q.page::<ProcessSort>().expect("page");
        assert_eq!(page.sort[0], (ProcessSort::DocumentName, Direction::Asc));
        assert_eq!(page.sort.len(), 2);
    }

    #[test]
    fn an_unknown_sort_field_is_a_400() {
        let q = QueryParams::parse("sort=password,asc");
        let err = q.page::<ProcessSort>().expect_err("unknown field");
        assert_eq!(err.status_code().as_u16(), 400);
    }

    #[test]
    fn typed_getters_name_the_bad_parameter() {
        let q = QueryParams::parse(
            "createdDateBefore=2026-02-17&processStatus=DONE&isAdmin=yes&scope=PERSONAL,GROUP&scope=ALL",
        );
        assert_eq!(
            q.date("createdDateBefore").expect("date"),
            Some(date!(2026 - 02 - 17))
        );
        let err = q
            .wire_enum::<ProcessStatus>("processStatus")
            .expect_err("unknown");
        assert_eq!(
            err.problem().errors.expect("errors")[0].field,
            "processStatus"
        );
        assert!(q.bool("isAdmin").is_err());
        assert_eq!(
            q.wire_enums::<ScopeFilter>("scope").expect("scopes"),
            [ScopeFilter::Personal, ScopeFilter::Group, ScopeFilter::All]
        );
        assert!(QueryParams::parse("d=17.02.2026").date("d").is_err());
    }

    #[test]
    fn a_bare_date_as_an_upper_bound_includes_the_whole_day() {
        let q = QueryParams::parse("from=2026-02-01&to=2026-02-17&t=2026-02-01T10:00:00Z");
        assert_eq!(
            q.instant("from", DayBound::Start).expect("from"),
            Some(datetime!(2026-02-01 0:00 UTC))
        );
        assert_eq!(
            q.instant("to", DayBound::End).expect("to"),
            Some(datetime!(2026-02-18 0:00 UTC))
        );
        assert_eq!(
            q.instant("t", DayBound::End).expect("t"),
            Some(datetime!(2026-02-01 10:00 UTC))
        );
    }

    #[test]
    fn an_empty_optional_body_is_the_default() {
        #[derive(Default, serde::Deserialize)]
        struct B {
            a: Option<u8>,
        }
        assert_eq!(json_or_default::<B>(b"").expect("empty").a, None);
        assert_eq!(
            json_or_default::<B>(br#"{"a":1}"#).expect("json").a,
            Some(1)
        );
        assert!(json_or_default::<B>(b"{nope").is_err());
    }
}
