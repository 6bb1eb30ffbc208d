//! The hub's fan-out, queues, kicks, seqs and presence.

use super::*;

fn frame(seq: i64) -> Outgoing {
    Outgoing {
        seq,
        frame: Utf8Bytes::from(format!("{{\"seq\":{seq}}}")),
    }
}

#[tokio::test]
async fn frames_reach_every_socket_of_each_recipient() {
    let hub = Hub::default();
    let (_a1, mut r1) = hub.register(1, vec![1], 4).unwrap();
    let (_a2, mut r2) = hub.register(1, vec![2], 4).unwrap();
    let (_b, mut r3) = hub.register(2, vec![3], 4).unwrap();
    hub.deliver(&[1], &frame(7));
    assert_eq!(r1.recv().await.unwrap().seq, 7);
    assert_eq!(r2.recv().await.unwrap().seq, 7);
    assert!(r3.try_recv().is_err());
    assert!(hub.register(1, vec![4], 2).is_err(), "socket cap");
}

#[tokio::test]
async fn a_full_queue_closes_that_socket_only() {
    let hub = Hub::default();
    let (slow, _keep) = hub.register(1, vec![1], 4).unwrap();
    let (_fast, mut fast_rx) = hub.register(2, vec![2], 4).unwrap();
    for seq in 0..=QUEUE_FRAMES as i64 {
        hub.deliver(&[1, 2], &frame(seq));
        fast_rx.recv().await.unwrap();
    }
    assert_eq!(slow.kicked().await, CLOSE_LAGGING);
    assert_eq!(hub.stats().lagging_closed.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_stuck_socket_that_misses_many_frames_counts_once() {
    let hub = Hub::default();
    let (stuck, _keep) = hub.register(1, vec![1], 4).unwrap();
    let (_other, _keep_other) = hub.register(2, vec![2], 4).unwrap();
    // The queue fills, then thousands of frames find it full before the socket goes.
    for seq in 1..=(QUEUE_FRAMES as i64 * 10) {
        hub.deliver(&[1], &frame(seq));
    }
    assert_eq!(stuck.kicked().await, CLOSE_LAGGING);
    assert_eq!(hub.stats().lagging_closed.load(Ordering::Relaxed), 1);
    // A second socket that falls behind is a second count.
    for seq in 1..=(QUEUE_FRAMES as i64 + 1) {
        hub.deliver(&[2], &frame(seq));
    }
    assert_eq!(hub.stats().lagging_closed.load(Ordering::Relaxed), 2);
}

#[test]
fn the_current_seq_is_known_once_noted_and_follows_deliveries() {
    let hub = Hub::default();
    assert_eq!(hub.current_seq(), None);
    hub.deliver(&[], &frame(5));
    assert_eq!(hub.current_seq(), None, "unknown until read from the log");
    hub.note_seq(3);
    assert_eq!(hub.current_seq(), Some(5));
    hub.deliver(&[], &frame(0));
    hub.deliver(&[], &frame(9));
    assert_eq!(hub.current_seq(), Some(9));
}

#[tokio::test]
async fn published_events_reach_sockets_in_seq_order_through_the_fanout_task() {
    let hub = Hub::default();
    let (_conn, mut rx) = hub.register(1, vec![], 4).unwrap();
    hub.start_fanout();
    // Published from another thread, as the writer does.
    let writer = hub.clone();
    std::thread::spawn(move || {
        for seq in 1..=300 {
            writer.publish(Arc::from([1]), frame(seq));
        }
    })
    .join()
    .unwrap();
    assert_eq!(hub.log_changed_after(), 300, "handed over counts at once");
    for seq in 1..=300 {
        assert_eq!(rx.recv().await.unwrap().seq, seq);
    }
}

#[test]
fn without_the_fanout_task_publishing_delivers_at_once() {
    let hub = Hub::default();
    let (_conn, mut rx) = hub.register(1, vec![], 4).unwrap();
    hub.publish(Arc::from([1]), frame(7));
    assert_eq!(rx.try_recv().unwrap().seq, 7);
}

#[test]
fn presence_follows_sockets() {
    let hub = Hub::default();
    assert_eq!(hub.presence(1), Presence::Offline);
    let (a, _ra) = hub.register(1, vec![], 4).unwrap();
    let (b, _rb) = hub.register(1, vec![], 4).unwrap();
    assert_eq!(hub.presence(1), Presence::Online);
    assert_eq!(hub.set_away(&a, true), None);
    assert_eq!(hub.set_away(&b, true), Some(Presence::Away));
    assert!(!hub.unregister(&a));
    assert!(hub.unregister(&b));
    assert_eq!(hub.presence(1), Presence::Offline);
}

#[test]
fn gone_counts_from_the_last_socket_closing() {
    let hub = Hub::default();
    assert_eq!(hub.gone_for(1), None, "never seen");
    let (first, _r1) = hub.register(1, vec![1], 4).unwrap();
    let (second, _r2) = hub.register(1, vec![2], 4).unwrap();
    assert_eq!(hub.gone_for(1), None, "connected");
    assert!(!hub.unregister(&first));
    assert_eq!(hub.gone_for(1), None, "one socket still open");
    assert!(hub.unregister(&second));
    let gone = hub.gone_for(1).expect("gone since the last one closed");
    assert!(gone < std::time::Duration::from_secs(1));
    let (_again, _r3) = hub.register(1, vec![3], 4).unwrap();
    assert_eq!(hub.gone_for(1), None, "back");
}
