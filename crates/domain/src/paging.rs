//! Paging and sorting (PRODUCT.md section 4): `page` from 0, `size` 20 by default and at most
//! 200, `sort=field,asc|desc` over a whitelist per resource, default `createdAt,desc`.

use crate::error::ValidationErrors;

/// Default page size.
pub const DEFAULT_SIZE: u32 = 20;
/// Largest page size.
pub const MAX_SIZE: u32 = 200;

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// A whitelist of sortable fields of one resource.
pub trait SortField: Sized + Copy + PartialEq + std::fmt::Debug + Send + Sync + 'static {
    /// The wire names and their fields.
    const FIELDS: &'static [(&'static str, Self)];
    /// `createdAt` (or the resource's natural order).
    const DEFAULT: Self;

    /// The wire name.
    fn name(self) -> &'static str {
        Self::FIELDS
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("", |(n, _)| n)
    }
}

macro_rules! sort_fields {
    ($(#[$doc:meta])* $name:ident default $default:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum $name { $($variant),+ }

        impl SortField for $name {
            const FIELDS: &'static [(&'static str, Self)] = &[$(($text, Self::$variant)),+];
            const DEFAULT: Self = Self::$default;
        }
    };
}

sort_fields!(
    /// Sortable fields of `listProcesses`.
    ProcessSort default CreatedAt {
        CreatedAt = "createdAt", DocumentName = "documentName", Status = "status",
        DocumentType = "documentType", CompletedAt = "completedAt", InitiatorName = "initiatorName",
    }
);
sort_fields!(
    /// Sortable fields of `listSignerTasks`.
    TaskSort default CreatedAt {
        CreatedAt = "createdAt", DueDate = "dueDate", DocumentName = "documentName",
        ProcessStatus = "processStatus",
    }
);
sort_fields!(
    /// Sortable fields of `listContacts`.
    ContactSort default CreatedAt { CreatedAt = "createdAt", Name = "name", Email = "email" }
);
sort_fields!(
    /// Sortable fields of `listTemplates`.
    TemplateSort default CreatedAt { CreatedAt = "createdAt", Name = "name" }
);
sort_fields!(
    /// Sortable fields of `GET /outbox`.
    OutboxSort default CreatedAt {
        CreatedAt = "createdAt", QueuedAt = "queuedAt", NextAttemptAt = "nextAttemptAt",
    }
);
sort_fields!(
    /// Sortable fields of `GET /webhooks`.
    WebhookSort default CreatedAt { CreatedAt = "createdAt", Url = "url" }
);
sort_fields!(
    /// Sortable fields of `GET /webhooks/{id}/deliveries`.
    AttemptSort default AttemptedAt { AttemptedAt = "attemptedAt" }
);
sort_fields!(
    /// Sortable fields of `GET /audit-events`.
    AuditSort default CreatedAt { CreatedAt = "createdAt", EventType = "eventType" }
);

/// A checked page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<S> {
    /// Page number from 0.
    pub page: u32,
    /// Rows per page, 1..=200.
    pub size: u32,
    /// Sort keys, most significant first; never empty.
    pub sort: Vec<(S, Direction)>,
}

impl<S: SortField> Default for PageRequest<S> {
    fn default() -> Self {
        Self {
            page: 0,
            size: DEFAULT_SIZE,
            sort: vec![(S::DEFAULT, Direction::Desc)],
        }
    }
}

impl<S: SortField> PageRequest<S> {
    /// Checks raw query parameters. `sort` items are `field` or `field,asc|desc`; an unknown
    /// field is an error, never passed on to SQL.
    ///
    /// ```
    /// use pas_domain::paging::{PageRequest, ProcessSort, Direction};
    /// let req = PageRequest::<ProcessSort>::parse(Some(2), Some(500), &["documentName,asc".into()]).unwrap();
    /// assert_eq!((req.page, req.size), (2, 200));
    /// assert_eq!(req.sort[0], (ProcessSort::DocumentName, Direction::Asc));
    /// assert!(PageRequest::<ProcessSort>::parse(None, None, &["password".into()]).is_err());
    /// ```
    pub fn parse(
        page: Option<i64>,
        size: Option<i64>,
        sort: &[String],
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let page = match page {
            None => 0,
            Some(p) => u32::try_from(p).unwrap_or_else(|_| {
                errors.push("page", "must be a whole number from 0");
                0
            }),
        };
        let size = match size {
            None => DEFAULT_SIZE,
            Some(s) if s >= 1 => u32::try_from(s.min(i64::from(MAX_SIZE))).unwrap_or(MAX_SIZE),
            Some(_) => {
                errors.push("size", "must be at least 1");
                DEFAULT_SIZE
            }
        };
        let mut keys = Vec::new();
        for item in sort.iter().flat_map(|s| split_sort(s)) {
            match item {
                Ok(key) => keys.push(key),
                Err(message) => errors.push("sort", message),
            }
        }
        if keys.is_empty() {
            keys.push((S::DEFAULT, Direction::Desc));
        }
        errors.into_result(Self {
            page,
            size,
            sort: keys,
        })
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.page) * u64::from(self.size)
    }
}

/// `createdAt,desc` → one key; `a,asc,b` (Spring also accepts `a,b,desc`) → keys in order.
fn split_sort<S: SortField>(raw: &str) -> Vec<Result<(S, Direction), String>> {
    let parts: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let dir = match parts.last().map(|p| p.to_ascii_lowercase()) {
        Some(d) if d == "asc" => Some(Direction::Asc),
        Some(d) if d == "desc" => Some(Direction::Desc),
        _ => None,
    };
    let fields = if dir.is_some() {
        &parts[..parts.len() - 1]
    } else {
        &parts[..]
    };
    let dir = dir.unwrap_or(Direction::Asc);
    fields
        .iter()
        .map(|f| {
            S::FIELDS
                .iter()
                .find(|(n, _)| n == f)
                .map(|(_, s)| (*s, dir))
                .ok_or_else(|| {
                    let allowed: Vec<&str> = S::FIELDS.iter().map(|(n, _)| *n).collect();
                    format!(
                        "cannot sort by that field; use one of {}",
                        allowed.join(", ")
                    )
                })
        })
        .collect()
}

/// One page of results, shaped like Spring's `Page` (PRODUCT.md section 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows.
    pub content: Vec<T>,
    /// Rows in all pages.
    pub total_elements: u64,
    /// Number of pages.
    pub total_pages: u64,
    /// This page's number, from 0.
    pub number: u32,
    /// Requested size.
    pub size: u32,
    /// Rows on this page.
    pub number_of_elements: usize,
    /// Is this the first page.
    pub first: bool,
    /// Is this the last page.
    pub last: bool,
    /// Is this page empty.
    pub empty: bool,
}

impl<T> Page<T> {
    /// Builds the page metadata from the rows and the total count.
    ///
    /// ```
    /// use pas_domain::paging::{Page, PageRequest, ProcessSort};
    /// let req = PageRequest::<ProcessSort>::parse(Some(1), Some(2), &[]).unwrap();
    /// let page = Page::new(vec!["c", "d"], 5, &req);
    /// assert_eq!((page.total_pages, page.first, page.last), (3, false, false));
    /// ```
    pub fn new<S>(content: Vec<T>, total_elements: u64, req: &PageRequest<S>) -> Self {
        let size = u64::from(req.size.max(1));
        let total_pages = total_elements.div_ceil(size);
        Self {
            number_of_elements: content.len(),
            empty: content.is_empty(),
            content,
            total_elements,
            total_pages,
            number: req.page,
            size: req.size,
            first: req.page == 0,
            last: u64::from(req.page) + 1 >= total_pages,
        }
    }

    /// The same page with each row mapped.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            content: self.content.into_iter().map(f).collect(),
            total_elements: self.total_elements,
            total_pages: self.total_pages,
            number: self.number,
            size: self.size,
            number_of_elements: self.number_of_elements,
            first: self.first,
            last: self.last,
            empty: self.empty,
        }
    }
}
