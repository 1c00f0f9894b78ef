//! Paging: the query parameters of a list and one page of its rows, shaped like Spring's
//! `Page` (PRODUCT.md section 4).

use pas_domain::paging::Page;
use serde::Serialize;
use utoipa::ToSchema;

use super::audit::AuditingEvent;
use super::directory::{Contact, Template};
use super::outbox::OutboxMessage;
use super::process::SigningProcess;
use super::task::SignerTask;
use super::webhook::{WebhookDeliveryAttempt, WebhookSubscription};

/// Pagination and sorting parameters.
// Query parameters, read by `crate::params`; this type only documents them.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Pageable {
    /// Page number (starts from 0).
    #[schema(minimum = 0, example = 0)]
    page: Option<i32>,
    /// Page size (default 20, at most 200).
    #[schema(minimum = 1, maximum = 200, example = 20)]
    size: Option<i32>,
    /// Sort expressions `field,asc|desc`, most significant first (default createdAt,desc).
    #[schema(example = json!(["createdAt,desc"]))]
    sort: Option<Vec<String>>,
}

// utoipa names a generic schema after its parameters only where it is used; one concrete
// type per page keeps the seed's component names (`PageSigningProcess`, …).
macro_rules! page_type {
    ($($name:ident of $item:ident;)+) => {$(
        #[doc = concat!("One page of ", stringify!($item), " rows.")]
        #[derive(Debug, Serialize, ToSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// The rows.
            pub content: Vec<$item>,
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

        impl<T> From<Page<T>> for $name where $item: From<T> {
            fn from(page: Page<T>) -> Self {
                Self {
                    content: page.content.into_iter().map($item::from).collect(),
                    total_elements: page.total_elements,
                    total_pages: page.total_pages,
                    number: page.number,
                    size: page.size,
                    number_of_elements: page.number_of_elements,
                    first: page.first,
                    last: page.last,
                    empty: page.empty,
                }
            }
        }
    )+};
}

page_type! {
    PageSigningProcess of SigningProcess;
    PageSignerTask of SignerTask;
    PageContact of Contact;
    PageTemplate of Template;
    PageAuditingEvent of AuditingEvent;
    PageOutboxMessage of OutboxMessage;
    PageWebhookSubscription of WebhookSubscription;
    PageWebhookDeliveryAttempt of WebhookDeliveryAttempt;
}
