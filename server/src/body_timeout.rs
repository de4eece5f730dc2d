//! A deadline for a request's body. actix bounds the head (`http.head_timeout_ms`) but not the
//! body: a client could send its headers and then dribble the body a byte a minute, holding a
//! connection and a handler forever. Past `http.body_timeout_ms` after the head, the body
//! stream fails, whatever was reading it stops, and the answer is 408 with the connection
//! closed, whichever error the handler made of the failed read.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::Method;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse};
use futures_util::Stream;
use serde_json::json;

/// The body, failing once the deadline passes before its end.
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<tokio::time::Sleep>>,
    tripped: Arc<AtomicBool>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.tripped.load(Ordering::Relaxed) {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.tripped.store(true, Ordering::Relaxed);
            let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body too slow");
            return Poll::Ready(Some(Err(PayloadError::Io(e))));
        }
        Poll::Pending
    }
}

/// Middleware (`wrap_fn`): `limit` from the end of the head to the end of the body.
pub fn limit_body_time<S>(
    mut req: ServiceRequest,
    srv: &S,
    limit: Duration,
) -> impl Future<Output = Result<ServiceResponse, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse, Error = actix_web::Error>,
{
    let tripped = Arc::new(AtomicBool::new(false));
    // Requests without a body skip the timer.
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let inner = req.take_payload();
        let stream = Deadline {
            inner,
            sleep: Box::pin(tokio::time::sleep(limit)),
            tripped: tripped.clone(),
        };
        req.set_payload(Payload::Stream {
            payload: Box::pin(stream),
        });
    }
    let response = srv.call(req);
    async move {
        let response = response.await?;
        if !tripped.load(Ordering::Relaxed) {
            return Ok(response);
        }
        let secs = limit.as_secs_f64();
        tracing::info!(
            path = response.request().path(),
            "request body too slow: 408"
        );
        let answer = HttpResponse::RequestTimeout()
            .force_close()
            .json(json!({"detail": format!("the request body did not arrive within {secs} s")}));
        Ok(response.into_response(answer))
    }
}
