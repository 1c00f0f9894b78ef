//! The probes' answer.

use serde::Serialize;
use utoipa::ToSchema;

/// `GET /health` and `GET /ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    /// `UP` or `DOWN`.
    #[schema(example = "UP")]
    pub status: &'static str,
}

impl HealthStatus {
    /// Live, or ready.
    pub const UP: Self = Self { status: "UP" };
    /// Not ready.
    pub const DOWN: Self = Self { status: "DOWN" };
}
