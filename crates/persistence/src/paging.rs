//! Paging and whitelisted sorting of list queries: the domain's checked `PageRequest`
//! mapped to `LIMIT`/`OFFSET` and to `ORDER BY` columns chosen in a `match`, never formatted
//! from input.

use diesel::dsl;
use diesel::expression_methods::ExpressionMethods;
use diesel::query_dsl::methods::{LimitDsl, OffsetDsl, ThenOrderDsl};
use pas_domain::paging::{Direction, PageRequest, SortField};

/// Orders the query `q` (boxed: each key keeps its type) by `col` in direction `dir`, after
/// the keys it has.
pub(crate) fn sorted<Q, E>(q: Q, dir: Direction, col: E) -> Q
where
    E: ExpressionMethods,
    Q: ThenOrderDsl<dsl::Asc<E>, Output = Q> + ThenOrderDsl<dsl::Desc<E>, Output = Q>,
{
    match dir {
        Direction::Asc => q.then_order_by(col.asc()),
        Direction::Desc => q.then_order_by(col.desc()),
    }
}

/// Orders `q` by the nullable `col`, NULLs last in both directions (the same on both
/// backends, whose defaults differ).
pub(crate) fn sorted_nulls_last<Q, E>(q: Q, dir: Direction, col: E) -> Q
where
    E: ExpressionMethods + Copy,
    Q: ThenOrderDsl<dsl::Asc<dsl::IsNull<E>>, Output = Q>
        + ThenOrderDsl<dsl::Asc<E>, Output = Q>
        + ThenOrderDsl<dsl::Desc<E>, Output = Q>,
{
    sorted(q.then_order_by(col.is_null().asc()), dir, col)
}

/// `q` ordered last by the row id `id` in the [`tie_direction`], cut to the page.
pub(crate) fn page_of<Q, E, S: SortField>(q: Q, id: E, page: &PageRequest<S>) -> Q
where
    E: ExpressionMethods,
    Q: ThenOrderDsl<dsl::Asc<E>, Output = Q> + ThenOrderDsl<dsl::Desc<E>, Output = Q>,
    Q: LimitDsl<Output = Q> + OffsetDsl<Output = Q>,
{
    sorted(q, tie_direction(page), id)
        .limit(i64::from(page.size))
        .offset(i64::try_from(page.offset()).unwrap_or(i64::MAX))
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
