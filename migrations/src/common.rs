//! Column and key shapes that later migrations share (earlier, landed ones keep
//! their own spelled-out builders: a landed migration is never edited).

use sea_orm_migration::prelude::*;

/// A `BIGINT` auto-increment primary key.
pub fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().auto_increment().primary_key().to_owned()
}

/// A named foreign key from `(table, column)` to `(table, column)`.
pub fn fk<A: IntoIden, B: IntoIden, C: IntoIden, D: IntoIden>(
    name: &str,
    from: (A, B),
    to: (C, D),
) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from.0, from.1).to(to.0, to.1).to_owned()
}
