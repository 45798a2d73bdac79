//! Every public operation runs in a `bridgekit` tracing span that names
//! the operation and the interface, and a failed one records its error
//! there: a VMM's logs show which bridge call failed. Checked with a
//! subscriber that captures spans and events.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bridgekit::{Bridge, BridgeConfig, Op, PortConfig};
use common::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// One span as captured: its name and fields.
#[derive(Debug, Clone, Default)]
struct SpanRecord {
    name: String,
    fields: HashMap<String, String>,
}

/// An event with the fields of the span it happened in.
#[derive(Debug, Clone)]
struct EventRecord {
    level: tracing::Level,
    fields: HashMap<String, String>,
    span: Option<SpanRecord>,
}

#[derive(Default)]
struct Captured {
    spans: Mutex<HashMap<u64, SpanRecord>>,
    opened: Mutex<Vec<SpanRecord>>,
    events: Mutex<Vec<EventRecord>>,
    current: Mutex<Vec<u64>>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Captured>, Arc<AtomicU64>);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.1.fetch_add(1, Ordering::SeqCst) + 1;
        let mut rec = SpanRecord {
            name: attrs.metadata().name().to_string(),
            ..Default::default()
        };
        attrs.record(&mut Fields(&mut rec.fields));
        self.0.opened.lock().unwrap().push(rec.clone());
        self.0.spans.lock().unwrap().insert(id, rec);
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(rec) = self.0.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Fields(&mut rec.fields));
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        let span = self
            .0
            .current
            .lock()
            .unwrap()
            .last()
            .and_then(|id| self.0.spans.lock().unwrap().get(id).cloned());
        self.0.events.lock().unwrap().push(EventRecord {
            level: *event.metadata().level(),
            fields,
            span,
        });
    }
    fn enter(&self, span: &Id) {
        self.0.current.lock().unwrap().push(span.into_u64());
    }
    fn exit(&self, span: &Id) {
        let mut cur = self.0.current.lock().unwrap();
        if let Some(pos) = cur.iter().rposition(|s| *s == span.into_u64()) {
            cur.remove(pos);
        }
    }
}

fn ops(c: &Capture) -> Vec<(String, String)> {
    c.0.opened
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.name == "bridgekit")
        .map(|s| (s.fields["op"].clone(), s.fields["iface"].clone()))
        .collect()
}

#[test]
fn each_public_operation_has_a_span_naming_it_and_the_interface() {
    let capture = Capture::default();
    let seen = capture.clone();
    netns_test(move |nl| async move {
        let _guard = tracing::subscriber::set_default(capture.clone());
        let br = Bridge::create(&nl, BridgeConfig::new("bktr0")?).await?;
        br.set_mtu(1400).await?;
        veth("bktr-p0", "bktr-p0p");
        br.attach_port("bktr-p0", PortConfig::new().up()).await?;
        br.status().await?;
        BridgeConfig::new("bktr0")?.mtu(1400).apply(&nl).await?;
        br.delete().await?;
        let got = ops(&capture);
        for want in [
            (Op::CreateBridge, "bktr0"),
            (Op::SetMtu, "bktr0"),
            (Op::AttachPort, "bktr0"),
            (Op::ReadLink, "bktr0"),
            (Op::Apply, "bktr0"),
            (Op::DeleteBridge, "bktr0"),
        ] {
            assert!(
                got.iter()
                    .any(|(op, iface)| op == want.0.name() && iface == want.1),
                "no span {want:?} in {got:?}"
            );
        }
        Ok(())
    });
    assert!(!ops(&seen).is_empty());
}

#[test]
fn a_failed_operation_records_its_error_in_its_span() {
    let capture = Capture::default();
    netns_test(move |nl| async move {
        let _guard = tracing::subscriber::set_default(capture.clone());
        let br = Bridge::create(&nl, BridgeConfig::new("bktr1")?).await?;
        let err = br
            .attach_port("nosuchport", PortConfig::new())
            .await
            .unwrap_err();
        let events = capture.0.events.lock().unwrap().clone();
        let failed = events
            .iter()
            .find(|e| e.level == tracing::Level::ERROR)
            .ok_or("no error event")?;
        let span = failed.span.as_ref().ok_or("error event outside any span")?;
        assert_eq!(span.name, "bridgekit");
        assert_eq!(span.fields["op"], "attach_port");
        assert_eq!(span.fields["iface"], "bktr1");
        assert_eq!(failed.fields["error"], err.to_string());
        Ok(())
    });
}
