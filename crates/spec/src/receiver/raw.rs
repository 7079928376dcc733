//! `[receivers.<name>]` as written: the keys every type takes, typed, and the string keys of
//! the types (`url`, `routing_key`, ...) by name. Which keys a type takes is in its file; this
//! layer only knows every key some type takes, so an unknown key is still rejected at decoding
//! with the valid keys listed, and a wrongly typed value is reported at its place.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use toml::Spanned;

use super::KINDS;
use super::kind::Keys;
use crate::raw::Str;

/// `[receivers.<name>]`.
#[derive(Debug, Default)]
pub(crate) struct RawReceiver {
    /// The type (`"pagerduty"`, `"slack"`, ...). Required.
    pub kind: Option<Str>,
    /// Per-request timeout. Default: [`crate::raw::default_receiver_timeout`].
    pub timeout: Option<Str>,
    /// Re-send a still-firing alert after this long. Default:
    /// [`crate::raw::default_repeat_interval`].
    pub repeat_interval: Option<Str>,
    /// Send resolved notifications. Default: true.
    pub send_resolved: Option<Spanned<bool>>,
    /// The type-specific keys given, each a string.
    pub keys: Keys,
}

/// Every key a receiver table may have, in documentation order: `type`, the types' keys (a
/// `*_file` key right after the key it replaces), then the keys every type takes.
static ALL_KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut keys: Vec<&'static str> = vec!["type"];
    for key in KINDS.iter().flat_map(|k| k.keys) {
        if keys.contains(key) {
            continue;
        }
        let after = key
            .strip_suffix("_file")
            .and_then(|base| keys.iter().position(|k| *k == base));
        match after {
            Some(at) => keys.insert(at + 1, key),
            None => keys.push(key),
        }
    }
    keys.extend(["timeout", "repeat_interval", "send_resolved"]);
    keys
});

/// A key of a receiver table.
enum Key {
    Type,
    Timeout,
    RepeatInterval,
    SendResolved,
    Kind(&'static str),
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_identifier(KeySeed)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a receiver key")
    }

    // Raised here, inside the key's deserializer, the error carries the key's place.
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(match key {
            "type" => Key::Type,
            "timeout" => Key::Timeout,
            "repeat_interval" => Key::RepeatInterval,
            "send_resolved" => Key::SendResolved,
            _ => match ALL_KEYS.iter().find(|k| **k == key) {
                Some(known) => Key::Kind(known),
                None => return Err(E::unknown_field(key, &ALL_KEYS)),
            },
        })
    }
}

impl<'de> Deserialize<'de> for RawReceiver {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawReceiver, D::Error> {
        deserializer.deserialize_map(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawReceiver;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct RawReceiver")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawReceiver, A::Error> {
        let mut raw = RawReceiver::default();
        let mut kind_keys = BTreeMap::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match key {
                Key::Type => raw.kind = Some(map.next_value()?),
                Key::Timeout => raw.timeout = Some(map.next_value()?),
                Key::RepeatInterval => raw.repeat_interval = Some(map.next_value()?),
                Key::SendResolved => raw.send_resolved = Some(map.next_value()?),
                Key::Kind(key) => {
                    kind_keys.insert(key, map.next_value()?);
                }
            }
        }
        raw.keys = kind_keys;
        Ok(raw)
    }
}
