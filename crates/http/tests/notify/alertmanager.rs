use burnwatch_engine::{AlertKind, AlertStatus};
use burnwatch_spec::ReceiverKind;
use wiremock::ResponseTemplate;

use crate::support::{
    Harness, SHORT_TIMEOUT, assert_timeout_retried, notification, receiver, slow_first,
};

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_retried_and_then_delivered() {
    let (server, stamped) = slow_first(ResponseTemplate::new(200)).await;
    let mut am = receiver("am", ReceiverKind::Alertmanager { url: server.uri() });
    am.timeout = SHORT_TIMEOUT;
    let mut h = Harness::alone(am);
    let started = std::time::Instant::now();
    h.send(notification(AlertKind::Page, AlertStatus::Firing));
    assert_timeout_retried(&h, "am", &server, &stamped, started).await;
    let requests = server.received_requests().await.unwrap();
    assert!(requests.iter().all(|r| r.url.path() == "/api/v2/alerts"));
    h.stop().await;
}
