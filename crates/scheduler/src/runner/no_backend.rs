//! A backend no unit test asks: tests that feed a runner's engine (or its readers) themselves.

use std::time::Duration;

use async_trait::async_trait;
use burnwatch_engine::Millis;

use crate::backend::{Backend, BackendError, QueryResult, Read};

/// Never asked: a read is a bug in the test.
#[derive(Debug)]
pub(crate) struct NoBackend;

#[async_trait]
impl Backend for NoBackend {
    fn name(&self) -> &str {
        "none"
    }
    async fn instant(&self, _: Read<'_>, _: Millis) -> Result<QueryResult, BackendError> {
        unreachable!("the test never reads")
    }
    async fn range(
        &self,
        _: Read<'_>,
        _: Millis,
        _: Millis,
        _: Duration,
    ) -> Result<QueryResult, BackendError> {
        unreachable!("the test never reads")
    }
}
