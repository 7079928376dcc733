//! A response body that holds something until it is sent: a render permit, or the mark that
//! its connection is busy. Dropped when the body is done or the connection goes away.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// `body`, holding `held` until the body is dropped.
pub(crate) struct Hold<T> {
    body: Body,
    _held: T,
}

impl<T: Send + Unpin + 'static> Hold<T> {
    /// A body that keeps `held` alive as long as it is being sent.
    pub(crate) fn body(body: Body, held: T) -> Body {
        Body::new(Hold { body, _held: held })
    }
}

impl<T: Unpin> http_body::Body for Hold<T> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
