//! Paging and whitelisted sorting of list queries: the domain's checked `PageRequest`
//! mapped to `LIMIT`/`OFFSET` and to `ORDER BY` columns chosen in a `match`, never formatted
//! from input.

use pas_domain::paging::{Direction, PageRequest, SortField};

/// Orders a boxed query by `$col` in direction `$dir` (`&Direction`).
macro_rules! sorted {
    ($q:expr, $dir:expr, $col:expr) => {
        match $dir {
            ::pas_domain::paging::Direction::Asc => $q.then_order_by($col.asc()),
            ::pas_domain::paging::Direction::Desc => $q.then_order_by($col.desc()),
        }
    };
}
pub(crate) use sorted;

/// Orders a boxed query by the nullable `$col`, NULLs last in both directions (the same on
/// both backends, whose defaults differ).
macro_rules! sorted_nulls_last {
    ($q:expr, $dir:expr, $col:expr) => {{
        let q = $q.then_order_by($col.is_null().asc());
        $crate::paging::sorted!(q, $dir, $col)
    }};
}
pub(crate) use sorted_nulls_last;

/// Rows to skip.
pub(crate) fn offset<S: SortField>(page: &PageRequest<S>) -> i64 {
    i64::try_from(page.offset()).unwrap_or(i64::MAX)
}

/// The row count of a `COUNT(*)`.
pub(crate) fn total(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

/// The direction of the last sort key, the row id: that of the first key, so that rows equal
/// in every requested key keep a stable order in the requested direction.
pub(crate) fn tie_direction<S>(page: &PageRequest<S>) -> Direction {
    <[_]>::first(&page.sort).map_or(Direction::Desc, |(_, d)| *d)
}
