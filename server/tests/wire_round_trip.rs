//! What the Bugle client sends is what the server reads: events made by the real client's
//! capture functions, serialized as its transport sends them, parsed as the native ingest
//! route parses them, equal field by field to the client's event.

use bugle_server::event::Event;

fn sent_and_read(capture: impl FnOnce()) -> Vec<(bugle::Event, Event)> {
    bugle::test::with_captured_events(capture)
        .into_iter()
        .map(|sent| {
            let body = serde_json::to_vec(&sent).expect("the client serializes its event");
            let read: Event = bugle_server::json::parse(&body, "event")
                .unwrap_or_else(|e| panic!("the server refused a client event: {e:?}"));
            (sent, read)
        })
        .collect()
}

#[derive(Debug)]
struct Broken(std::io::Error);

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("saving cart 7 failed")
    }
}

impl std::error::Error for Broken {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn every_field_the_client_sends_reads_back_the_same() {
    let events = sent_and_read(|| {
        bugle::set_tag("region", "eu-west");
        bugle::set_person(
            bugle::Person::new("42")
                .username("ada")
                .email("ada@example.com"),
        );
        bugle::set_custom("cart", serde_json::json!({"items": 3}));
        bugle::add_breadcrumb(
            bugle::Breadcrumb::new("http", "GET /cart")
                .level(bugle::Level::Debug)
                .data("status", 200),
        );
        bugle::capture_error(&Broken(std::io::Error::other("disk full")));
        bugle::capture_message("cache warmed", bugle::Level::Info);
        let mut custom = bugle::Event::new(bugle::Level::Warning);
        custom.message = Some("by hand".into());
        custom.title = Some("A chosen title".into());
        custom.fingerprint = Some(vec!["{{ default }}".into(), "tenant-eu".into()]);
        custom.trace = Some(bugle::Trace {
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            span_id: Some("00f067aa0ba902b7".into()),
        });
        custom
            .extra
            .insert("something_new".into(), serde_json::json!([1, 2]));
        bugle::capture_event(custom);
    });
    assert_eq!(events.len(), 3);
    for (sent, read) in events {
        read.validate().expect("a client event is a valid event");
        assert_eq!(read, Event::from(sent.clone()), "{sent:#?}");
    }
}

#[test]
fn the_parts_the_server_groups_and_shows_arrive_intact() {
    let events = sent_and_read(|| {
        bugle::capture_error(&Broken(std::io::Error::other("disk full")));
    });
    let (sent, read) = &events[0];
    let chain: Vec<_> = read
        .exceptions
        .iter()
        .map(|e| (e.ty.as_str(), e.value.as_deref()))
        .collect();
    assert_eq!(chain[1], ("std::io::Error", Some("disk full")));
    assert_eq!(chain[0].1, Some("saving cart 7 failed"));
    let frames = &read.exceptions[0].frames;
    assert!(!frames.is_empty(), "capture_error sends a stack trace");
    assert_eq!(frames, &sent.exceptions[0].frames);
    assert!(frames.iter().any(|f| f.in_app == Some(true)));
    assert_eq!(read.uuid, Some(sent.uuid));
    assert_eq!(read.timestamp, Some(sent.timestamp));
    assert_eq!(read.host(), sent.server.host.as_deref());
    assert_eq!(
        read.extra["thread"]["name"],
        sent.thread.as_ref().unwrap().name
    );
}
