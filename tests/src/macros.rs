//! [`backend_tests!`](crate::backend_tests): one test body, run against every backend.

/// Turns each listed `async fn name(backend: Backend)` of the calling module into two
/// tests, `sqlite::name` and `postgres::name`, so both backends run the same suite and
/// the test names say which backend failed (and `cargo test sqlite::` counts them).
///
/// ```text
/// async fn records_an_event(backend: Backend) { /* ... */ }
/// backend_tests!(records_an_event);
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await;
                }
            )+
        }

        mod postgres {
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await;
                }
            )+
        }
    };
}
