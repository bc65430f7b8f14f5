//! YAML straight into a JSON value, in one pass over the parser's events, so that every problem
//! (a key JSON cannot have, a bad `<<` merge, NaN, a second document) comes with the line and
//! column of the node it is about.
//!
//! What it does the same way `serde_yaml::Value` + `apply_merge` did: plain scalars resolve as in
//! YAML 1.2 core (`0x1F` is 31, `~` is null), number and true/false keys become strings
//! (`1: a` is `{"1": "a"}`), a tagged value `!Tag x` becomes `{"!Tag": x}`, and `<<: *a` /
//! `<<: [*a, *b]` merge keys fill in the keys the mapping doesn't set itself (the first listed
//! mapping wins). What it does better: a merged mapping's own merges are already applied (a chain
//! of anchors works), and NaN and infinity are errors instead of silently becoming null.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The YAML merge key.
const MERGE: &str = "<<";

/// Parses one YAML document (no document is null).
pub fn parse(text: &str) -> Result<Value, serde_yaml::Error> {
    let mut documents = serde_yaml::Deserializer::from_str(text);
    let value = match documents.next() {
        Some(first) => Node.deserialize(first)?,
        None => Value::Null,
    };
    match documents.next() {
        None => Ok(value),
        // Deserializing the second document fails at its first node, which gives the position.
        Some(second) => match SecondDocument.deserialize(second) {
            Err(err) => Err(err),
            Ok(never) => match never {},
        },
    }
}

/// Any YAML node, as JSON.
#[derive(Clone, Copy)]
struct Node;

impl<'de> DeserializeSeed<'de> for Node {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::from(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        Ok(Value::from(u))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        Number::from_f64(f).map(Value::Number).ok_or_else(|| E::custom(format!("a JSON config cannot hold {f}")))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Node)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        mapping(map).map(Value::Object)
    }

    /// `!Tag value` is `{"!Tag": value}`.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (tag, content): (String, _) = data.variant()?;
        let value = content.newtype_variant_seed(Node)?;
        let tag = tag.strip_prefix('!').filter(|rest| !rest.is_empty()).unwrap_or(&tag);
        Ok(Value::Object(Map::from_iter([(format!("!{tag}"), value)])))
    }
}

/// A mapping with its `<<` merges applied: its own keys first, then the merged mappings' other keys.
fn mapping<'de, A: MapAccess<'de>>(mut map: A) -> Result<Map<String, Value>, A::Error> {
    let mut object = Map::new();
    let mut merges = Vec::new();
    let mut merged = false;
    while let Some(key) = map.next_key_seed(Key { object: &object, merged })? {
        match key {
            Some(name) => {
                let value = map.next_value_seed(Node)?;
                object.insert(name, value);
            }
            None => {
                merged = true;
                merges = map.next_value_seed(Merge)?;
            }
        }
    }
    for source in merges {
        for (key, value) in source {
            object.entry(key).or_insert(value);
        }
    }
    Ok(object)
}

/// A mapping key as JSON can have it: `Some(name)`, or `None` for the merge key `<<`.
struct Key<'a> {
    /// The keys the mapping has so far, to refuse a repeated one.
    object: &'a Map<String, Value>,
    /// Whether the mapping had a `<<` already.
    merged: bool,
}

impl Key<'_> {
    fn name<E: de::Error>(self, name: String) -> Result<Option<String>, E> {
        let repeated = if name == MERGE { self.merged } else { self.object.contains_key(&name) };
        if repeated {
            return Err(E::custom(format!("duplicate entry with key \"{name}\"")));
        }
        Ok((name != MERGE).then_some(name))
    }

    fn not_a_key<E: de::Error>(found: &str) -> Result<Option<String>, E> {
        Err(E::custom(format!("a key must be a string, a number or true/false, found {found}")))
    }
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key: a string, a number or true/false")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        self.name(s.to_owned())
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        self.name(b.to_string())
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Self::Value, E> {
        self.name(i.to_string())
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Self::Value, E> {
        self.name(u.to_string())
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Self::Value, E> {
        match Number::from_f64(f) {
            Some(number) => self.name(number.to_string()),
            None => Err(E::custom(format!("a JSON config cannot hold {f}"))),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Self::not_a_key("null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Self::not_a_key("null")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Self::not_a_key("a list")
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Self::not_a_key("a mapping")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Self::not_a_key("a tagged value")
    }
}

/// The value of `<<`: a mapping, or a list of mappings (earlier ones win).
struct Merge;

impl<'de> DeserializeSeed<'de> for Merge {
    type Value = Vec<Map<String, Value>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Merge {
    type Value = Vec<Map<String, Value>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping or list of mappings for merging")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Ok(vec![mapping(map)?])
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut sources = Vec::new();
        while let Some(source) = seq.next_element_seed(MergeElement)? {
            sources.push(source);
        }
        Ok(sources)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom("unexpected tagged value in merge"))
    }
}

/// One item of a `<<` list: a mapping.
struct MergeElement;

impl<'de> DeserializeSeed<'de> for MergeElement {
    type Value = Map<String, Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MergeElement {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping for merging")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        mapping(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom("expected a mapping for merging, but found sequence"))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom("unexpected tagged value in merge"))
    }
}

/// A second document: always an error, raised at its first node.
struct SecondDocument;

/// What a second document is refused with.
const SECOND_DOCUMENT: &str = "a second YAML document starts here; a config file holds one";

/// Never made: deserializing a [`SecondDocument`] always fails.
enum Never {}

impl<'de> DeserializeSeed<'de> for SecondDocument {
    type Value = Never;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Never, D::Error> {
        deserializer.deserialize_any(self)
    }
}

macro_rules! refuse {
    ($($name:ident($($arg:ty)?)),* $(,)?) => {$(
        fn $name<E: de::Error>(self $(, _: $arg)?) -> Result<Never, E> {
            Err(E::custom(SECOND_DOCUMENT))
        }
    )*};
}

impl<'de> Visitor<'de> for SecondDocument {
    type Value = Never;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("no second document")
    }

    refuse!(
        visit_unit(),
        visit_none(),
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_i128(i128),
        visit_u128(u128),
        visit_f64(f64),
        visit_str(&str),
    );

    fn visit_some<D: Deserializer<'de>>(self, _: D) -> Result<Never, D::Error> {
        Err(de::Error::custom(SECOND_DOCUMENT))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Never, A::Error> {
        Err(de::Error::custom(SECOND_DOCUMENT))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Never, A::Error> {
        Err(de::Error::custom(SECOND_DOCUMENT))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, _: A) -> Result<Never, A::Error> {
        Err(de::Error::custom(SECOND_DOCUMENT))
    }
}
