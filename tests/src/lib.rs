//! End-to-end scenarios live in `tests/*.rs`.
