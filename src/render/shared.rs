//! The whole model as one template value in which equal parts are one shared value (issue 23).
//! Template maps and lists are reference-counted, so a shared part is one clone of a pointer;
//! at 1 000 services the model has 2.4 million nodes of which two fifths repeat an earlier
//! part: a microservices model's `deployables` are its `services` again, every entity has the
//! same `id` and timestamp columns, services share their probes, runtime and client
//! operations.
//!
//! Two levels do it:
//! - [`Top`] and [`Elems`] take the model's fields one by one, and a list's elements: an
//!   element whose hash in the index (of its serialized text) and Rust type are those of one
//!   converted before is that value, not walked again.
//! - [`Conv`] converts the rest as tera's own serializer does, hashing each part as it goes,
//!   and a map or list equal to one built before is replaced by that one. The hash only finds
//!   a candidate: the two are compared entry by entry (their own parts are already shared, so
//!   that is a pointer comparison each), and a collision shares nothing.
//!
//! Anything either is handed that it does not take (a map key that is not a string, tera's
//! own values) is refused, and that part converts the plain way, so the result is always the
//! value [`Value::from_serializable`] gives; a test compares them on every example.

use crate::slices::Index;
use serde::ser::{self, Impossible, Serialize, Serializer};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use tera::Value;
use tera::value::{Key, Map};

/// What one conversion shares.
struct Pool {
    /// Converted list elements, by element type and index hash.
    elems: HashMap<(&'static str, [u8; 32]), Value>,
    /// Converted maps and lists, by content hash.
    parts: HashMap<u64, Value, crate::blueprint::FnvBuild>,
    /// Map keys (the model's maps have a few hundred distinct ones).
    keys: HashMap<Arc<str>, (), crate::blueprint::FnvBuild>,
}

/// The template value of `model` (a struct whose list fields the index hashes per element).
pub fn whole_value<T: Serialize>(model: &T, index: &Index) -> Value {
    let mut pool = Pool::new();
    let top = Top {
        index,
        pool: &mut pool,
        ready: &mut HashMap::new(),
    };
    model
        .serialize(top)
        .unwrap_or_else(|Refused| Value::from_serializable(model))
}

/// [`whole_value`] of a model the caller no longer needs: its largest lists are converted
/// first, each dropped as soon as its template value is built, so that the model's structs
/// and their template values are never both whole (at 1 000 services the structs are about
/// 50 MB, the lists below most of it). Same value as [`whole_value`] (a test holds it).
pub fn whole_value_releasing(mut model: crate::resolve::Model, index: &Index) -> Value {
    let mut pool = Pool::new();
    // Services before deployables: those equal to a service are then found by their hash.
    let mut ready: HashMap<&'static str, Value> = HashMap::from([
        list_value(
            std::mem::take(&mut model.services),
            "services",
            index,
            &mut pool,
        ),
        list_value(
            std::mem::take(&mut model.deployables),
            "deployables",
            index,
            &mut pool,
        ),
        list_value(
            std::mem::take(&mut model.entities),
            "entities",
            index,
            &mut pool,
        ),
        list_value(
            std::mem::take(&mut model.databases),
            "databases",
            index,
            &mut pool,
        ),
    ]);
    let top = Top {
        index,
        pool: &mut pool,
        ready: &mut ready,
    };
    let value = model.serialize(top);
    drop(model);
    value.unwrap_or_else(|Refused| unreachable_refusal())
}

/// The model is a struct, so [`Top`] never refuses it; were that to change, the structs are
/// gone and there is nothing to convert the plain way: an empty map, which every template
/// render then fails on loudly.
fn unreachable_refusal() -> Value {
    Value::from(Map::new())
}

/// A list of the model by its field name, converted and then dropped.
fn list_value<T: Serialize>(
    list: Vec<T>,
    name: &'static str,
    index: &Index,
    pool: &mut Pool,
) -> (&'static str, Value) {
    (name, field_value(&list, name, index, pool))
}

/// The model's field `name`: a list the index hashes element by element through [`Elems`],
/// anything else (or a list it refuses) through [`convert`].
fn field_value<V: Serialize + ?Sized>(
    value: &V,
    name: &str,
    index: &Index,
    pool: &mut Pool,
) -> Value {
    let converted = index.elem_hashes(name).and_then(|hashes| {
        value
            .serialize(Elems {
                hashes,
                pool: &mut *pool,
            })
            .ok()
    });
    converted.unwrap_or_else(|| convert(value, pool))
}

/// `value` converted with parts shared, or the plain way when [`Conv`] refuses it.
fn convert<T: Serialize + ?Sized>(value: &T, pool: &mut Pool) -> Value {
    match value.serialize(Conv { pool }) {
        Ok(part) => part.value,
        Err(Refused) => Value::from_serializable(value),
    }
}

/// This part is not the shape this walk takes: convert it the plain way.
#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a shape whose elements are shared")
    }
}

impl std::error::Error for Refused {}

impl ser::Error for Refused {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        Refused
    }
}

/// Serializer methods that refuse their input; `$ok` is the serializer's output.
macro_rules! refuse {
    ($ok:ty; $($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ok, Refused> { Err(Refused) })*
    };
}

/// Refuses every scalar but text, and every compound shape but lists and structs.
macro_rules! refuse_most {
    ($ok:ty) => {
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Refused> {
            Err(Refused)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Refused> {
            Err(Refused)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Refused> {
            Err(Refused)
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Refused> {
            Err(Refused)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Refused> {
            Err(Refused)
        }
        fn serialize_some<V: Serialize + ?Sized>(self, _: &V) -> Result<$ok, Refused> {
            Err(Refused)
        }
        fn serialize_newtype_struct<V: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: &V,
        ) -> Result<$ok, Refused> {
            Err(Refused)
        }
        fn serialize_newtype_variant<V: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &V,
        ) -> Result<$ok, Refused> {
            Err(Refused)
        }
        refuse!(
            $ok;
            serialize_bool(bool),
            serialize_i8(i8),
            serialize_i16(i16),
            serialize_i32(i32),
            serialize_i64(i64),
            serialize_u8(u8),
            serialize_u16(u16),
            serialize_u32(u32),
            serialize_u64(u64),
            serialize_f32(f32),
            serialize_f64(f64),
            serialize_bytes(&[u8]),
            serialize_none(),
            serialize_unit(),
            serialize_unit_struct(&'static str),
            serialize_unit_variant(&'static str, u32, &'static str),
        );
    };
}

/// Refuses everything a list or a struct of lists does not use.
macro_rules! refuse_compounds {
    () => {
        refuse_most!(Value);
        refuse!(Value; serialize_char(char), serialize_str(&str));
    };
}

/// The model itself: a struct, converted field by field.
struct Top<'a> {
    index: &'a Index,
    pool: &'a mut Pool,
    /// Fields already converted, by name: taken instead of what the model holds there.
    ready: &'a mut HashMap<&'static str, Value>,
}

struct TopFields<'a> {
    index: &'a Index,
    pool: &'a mut Pool,
    ready: &'a mut HashMap<&'static str, Value>,
    map: Map,
}

impl<'a> Serializer for Top<'a> {
    type Ok = Value;
    type Error = Refused;
    type SerializeSeq = Impossible<Value, Refused>;
    type SerializeTuple = Impossible<Value, Refused>;
    type SerializeTupleStruct = Impossible<Value, Refused>;
    type SerializeTupleVariant = Impossible<Value, Refused>;
    type SerializeMap = Impossible<Value, Refused>;
    type SerializeStruct = TopFields<'a>;
    type SerializeStructVariant = Impossible<Value, Refused>;

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<TopFields<'a>, Refused> {
        Ok(TopFields {
            index: self.index,
            pool: self.pool,
            ready: self.ready,
            map: Map::with_capacity(len),
        })
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Refused> {
        Err(Refused)
    }

    refuse_compounds!();
}

impl ser::SerializeStruct for TopFields<'_> {
    type Ok = Value;
    type Error = Refused;

    fn serialize_field<V: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &V,
    ) -> Result<(), Refused> {
        let value = match self.ready.remove(key) {
            Some(ready) => ready,
            None => field_value(value, key, self.index, self.pool),
        };
        self.map.insert(Key::Str(key), value);
        Ok(())
    }

    fn end(self) -> Result<Value, Refused> {
        Ok(Value::from(self.map))
    }
}

/// A list field whose element hashes the index has.
struct Elems<'a> {
    hashes: Vec<&'a [u8; 32]>,
    pool: &'a mut Pool,
}

struct ElemsSeq<'a> {
    hashes: Vec<&'a [u8; 32]>,
    pool: &'a mut Pool,
    items: Vec<Value>,
}

impl<'a> Serializer for Elems<'a> {
    type Ok = Value;
    type Error = Refused;
    type SerializeSeq = ElemsSeq<'a>;
    type SerializeTuple = Impossible<Value, Refused>;
    type SerializeTupleStruct = Impossible<Value, Refused>;
    type SerializeTupleVariant = Impossible<Value, Refused>;
    type SerializeMap = Impossible<Value, Refused>;
    type SerializeStruct = Impossible<Value, Refused>;
    type SerializeStructVariant = Impossible<Value, Refused>;

    fn serialize_seq(self, _: Option<usize>) -> Result<ElemsSeq<'a>, Refused> {
        Ok(ElemsSeq {
            items: Vec::with_capacity(self.hashes.len()),
            hashes: self.hashes,
            pool: self.pool,
        })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Refused> {
        Err(Refused)
    }

    refuse_compounds!();
}

impl ser::SerializeSeq for ElemsSeq<'_> {
    type Ok = Value;
    type Error = Refused;

    fn serialize_element<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), Refused> {
        let hash = self.hashes.get(self.items.len()).ok_or(Refused)?;
        let key = (std::any::type_name::<V>(), **hash);
        let value = match self.pool.elems.get(&key) {
            Some(known) => known.clone(),
            None => {
                let value = convert(value, self.pool);
                self.pool.elems.insert(key, value.clone());
                value
            }
        };
        self.items.push(value);
        Ok(())
    }

    fn end(self) -> Result<Value, Refused> {
        if self.items.len() != self.hashes.len() {
            return Err(Refused);
        }
        Ok(Value::from(self.items))
    }
}

/// A converted part and its content hash.
struct Part {
    value: Value,
    hash: u64,
}

/// A part's content hash, over its kind, text and parts' hashes.
struct Digest(foldhash::fast::FoldHasher<'static>);

impl Digest {
    fn new(tag: u8) -> Digest {
        let mut d = Digest(foldhash::fast::FixedState::with_seed(0x5eed).build_hasher());
        d.0.write_u8(tag);
        d
    }

    fn bytes(&mut self, b: &[u8]) {
        self.0.write(b);
    }

    /// Text with its length, so that `ab`,`c` and `a`,`bc` differ.
    fn text(&mut self, t: &str) {
        self.0.write_usize(t.len());
        self.0.write(t.as_bytes());
    }

    fn part(&mut self, hash: u64) {
        self.0.write_u64(hash);
    }

    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

impl Pool {
    fn new() -> Pool {
        Pool {
            elems: HashMap::new(),
            parts: HashMap::default(),
            keys: HashMap::default(),
        }
    }

    fn scalar(value: Value, tag: u8, bytes: &[u8]) -> Part {
        let mut d = Digest::new(tag);
        d.bytes(bytes);
        Part {
            value,
            hash: d.finish(),
        }
    }

    /// The map or list built before with these contents, or the one `build` makes of them,
    /// kept for the next one. Nothing is built for contents seen before.
    fn share<T>(
        &mut self,
        contents: T,
        d: &Digest,
        equal: impl Fn(&T, &Value) -> bool,
        build: impl FnOnce(T) -> Value,
    ) -> Part {
        let hash = d.finish();
        let value = match self.parts.get(&hash) {
            Some(known) if equal(&contents, known) => known.clone(),
            Some(_) => build(contents), // a collision: not shared
            None => {
                let value = build(contents);
                self.parts.insert(hash, value.clone());
                value
            }
        };
        Part { value, hash }
    }

    fn share_map(&mut self, entries: Vec<(Key<'static>, Value)>, d: &Digest) -> Part {
        self.share(entries, d, |e, known| same_entries(e, known), build_map)
    }

    fn share_list(&mut self, items: Vec<Value>, d: &Digest) -> Part {
        self.share(
            items,
            d,
            |items, known| {
                known.as_array().is_some_and(|k| {
                    k.len() == items.len() && k.iter().zip(items).all(|(p, q)| same(p, q))
                })
            },
            Value::from,
        )
    }

    fn key(&mut self, name: &str) -> Key<'static> {
        if let Some((k, ())) = self.keys.get_key_value(name) {
            return Key::String(k.clone());
        }
        let k: Arc<str> = Arc::from(name);
        self.keys.insert(k.clone(), ());
        Key::String(k)
    }
}

/// A template map of `entries`. A struct's (field names only) goes through tera's own
/// serializer, which takes template values as they are: built once. `From<IndexMap>` would
/// insert every entry a second time, a tenth of the conversion.
fn build_map(entries: Vec<(Key<'static>, Value)>) -> Value {
    if entries.iter().all(|(k, _)| matches!(k, Key::Str(_))) {
        return Value::from_serializable(&StructFields(&entries));
    }
    let mut map = Map::with_capacity(entries.len());
    map.extend(entries);
    Value::from(map)
}

/// Entries whose keys are all field names, serialized as a struct.
struct StructFields<'e>(&'e [(Key<'static>, Value)]);

impl Serialize for StructFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use ser::SerializeStruct as _;
        let mut fields = s.serialize_struct("", self.0.len())?;
        for (key, value) in self.0 {
            if let Key::Str(name) = key {
                fields.serialize_field(name, value)?;
            }
        }
        fields.end()
    }
}

/// Whether two values are the same for any template: same kinds, entries in the same order.
/// Their own maps and lists are already shared when equal, so those compare by pointer first.
fn same(a: &Value, b: &Value) -> bool {
    if a.kind() != b.kind() {
        return false;
    }
    if let (Some(x), Some(y)) = (a.as_map(), b.as_map()) {
        return std::ptr::eq(x, y)
            || (x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| same_entry((kx, vx), (ky, vy))));
    }
    if let (Some(x), Some(y)) = (a.as_array(), b.as_array()) {
        return std::ptr::eq(x, y)
            || (x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)));
    }
    a == b
}

fn same_entry((kx, vx): (&Key<'_>, &Value), (ky, vy): (&Key<'_>, &Value)) -> bool {
    kx.as_str().is_some() && kx.as_str() == ky.as_str() && same(vx, vy)
}

/// Whether a map's entries, not yet a map, are those of `known`, in order.
fn same_entries(entries: &[(Key<'static>, Value)], known: &Value) -> bool {
    known.as_map().is_some_and(|k| {
        k.len() == entries.len()
            && k.iter()
                .zip(entries)
                .all(|(p, (kq, vq))| same_entry(p, (kq, vq)))
    })
}

/// Integer methods: widened as tera's serializer widens them (to 64 or 128 bits, signed or
/// not), hashed with their kind.
macro_rules! number {
    ($($method:ident: $ty:ty => $wide:ty, $tag:literal);* $(;)?) => {
        $(fn $method(self, v: $ty) -> Result<Part, Refused> {
            let v = <$wide>::from(v);
            Ok(Pool::scalar(Value::from(v), $tag, &v.to_le_bytes()))
        })*
    };
}

/// Converts as tera's serializer does (`tera::value::ser`), sharing equal maps and lists.
struct Conv<'p> {
    pool: &'p mut Pool,
}

/// Tera's marker for its own values inside serialized data: not taken here.
const TERA_VALUE: &str = "$__tera::private::Value";

impl<'p> Serializer for Conv<'p> {
    type Ok = Part;
    type Error = Refused;
    type SerializeSeq = ConvSeq<'p>;
    type SerializeTuple = ConvSeq<'p>;
    type SerializeTupleStruct = ConvSeq<'p>;
    type SerializeTupleVariant = ConvSeq<'p>;
    type SerializeMap = ConvMap<'p>;
    type SerializeStruct = ConvMap<'p>;
    type SerializeStructVariant = ConvMap<'p>;

    fn serialize_bool(self, v: bool) -> Result<Part, Refused> {
        Ok(Pool::scalar(Value::from(v), b'b', &[u8::from(v)]))
    }
    number!(
        serialize_i8: i8 => i64, b'i';
        serialize_i16: i16 => i64, b'i';
        serialize_i32: i32 => i64, b'i';
        serialize_i64: i64 => i64, b'i';
        serialize_i128: i128 => i128, b'I';
        serialize_u8: u8 => u64, b'u';
        serialize_u16: u16 => u64, b'u';
        serialize_u32: u32 => u64, b'u';
        serialize_u64: u64 => u64, b'u';
        serialize_u128: u128 => u128, b'U';
    );
    fn serialize_f32(self, v: f32) -> Result<Part, Refused> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Part, Refused> {
        Ok(Pool::scalar(
            Value::from(v),
            b'f',
            &v.to_bits().to_le_bytes(),
        ))
    }
    fn serialize_char(self, v: char) -> Result<Part, Refused> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<Part, Refused> {
        Ok(Pool::scalar(Value::from(v), b's', v.as_bytes()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Part, Refused> {
        Ok(Pool::scalar(Value::from(v), b'y', v))
    }
    fn serialize_none(self) -> Result<Part, Refused> {
        Ok(Pool::scalar(Value::none(), b'n', &[]))
    }
    fn serialize_some<V: Serialize + ?Sized>(self, value: &V) -> Result<Part, Refused> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Part, Refused> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Part, Refused> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Part, Refused> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<V: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &V,
    ) -> Result<Part, Refused> {
        if name == TERA_VALUE {
            return Err(Refused);
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<V: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &V,
    ) -> Result<Part, Refused> {
        let inner = value.serialize(Conv {
            pool: &mut *self.pool,
        })?;
        Ok(wrap(self.pool, variant, inner))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<ConvSeq<'p>, Refused> {
        let digest = Digest::new(b'a');
        Ok(ConvSeq {
            pool: self.pool,
            items: Vec::with_capacity(len.unwrap_or(0)),
            digest,
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<ConvSeq<'p>, Refused> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<ConvSeq<'p>, Refused> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<ConvSeq<'p>, Refused> {
        let seq = self.serialize_seq(Some(len))?;
        Ok(ConvSeq {
            variant: Some(variant),
            ..seq
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<ConvMap<'p>, Refused> {
        let digest = Digest::new(b'm');
        Ok(ConvMap {
            pool: self.pool,
            entries: Vec::with_capacity(len.unwrap_or(0)),
            key: None,
            digest,
            variant: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<ConvMap<'p>, Refused> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<ConvMap<'p>, Refused> {
        self.serialize_map(Some(len)).map(|map| ConvMap {
            variant: Some(variant),
            ..map
        })
    }
}

/// `{variant: inner}`, as tera writes an enum variant with data.
fn wrap(pool: &mut Pool, variant: &'static str, inner: Part) -> Part {
    let mut d = Digest::new(b'v');
    d.text(variant);
    d.part(inner.hash);
    pool.share_map(vec![(Key::Str(variant), inner.value)], &d)
}

struct ConvSeq<'p> {
    pool: &'p mut Pool,
    items: Vec<Value>,
    digest: Digest,
    /// A tuple variant's name: the list is wrapped in `{name: list}`.
    variant: Option<&'static str>,
}

impl ConvSeq<'_> {
    fn push<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), Refused> {
        let part = value.serialize(Conv {
            pool: &mut *self.pool,
        })?;
        self.digest.part(part.hash);
        self.items.push(part.value);
        Ok(())
    }

    fn done(self) -> Result<Part, Refused> {
        let list = self.pool.share_list(self.items, &self.digest);
        Ok(match self.variant {
            Some(name) => wrap(self.pool, name, list),
            None => list,
        })
    }
}

/// The compound-serializer traits whose one method hands each part to `$push`.
macro_rules! forward {
    ($ty:ident, $push:ident: $($trait:ident::$method:ident),*) => {
        $(impl ser::$trait for $ty<'_> {
            type Ok = Part;
            type Error = Refused;
            fn $method<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), Refused> {
                self.$push(value)
            }
            fn end(self) -> Result<Part, Refused> {
                self.done()
            }
        })*
    };
    (fields of $ty:ident: $($trait:ident),*) => {
        $(impl ser::$trait for $ty<'_> {
            type Ok = Part;
            type Error = Refused;
            fn serialize_field<V: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &V,
            ) -> Result<(), Refused> {
                self.insert(Key::Str(key), value)
            }
            fn end(self) -> Result<Part, Refused> {
                self.done()
            }
        })*
    };
}

forward!(ConvSeq, push: SerializeSeq::serialize_element, SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field, SerializeTupleVariant::serialize_field);

struct ConvMap<'p> {
    pool: &'p mut Pool,
    entries: Vec<(Key<'static>, Value)>,
    /// A map's key waiting for its value.
    key: Option<Key<'static>>,
    digest: Digest,
    /// A struct variant's name: the map is wrapped in `{name: map}`.
    variant: Option<&'static str>,
}

impl ConvMap<'_> {
    fn insert<V: Serialize + ?Sized>(
        &mut self,
        key: Key<'static>,
        value: &V,
    ) -> Result<(), Refused> {
        let part = value.serialize(Conv {
            pool: &mut *self.pool,
        })?;
        // The key's kind too: a struct's field names and a map's string keys are told apart.
        let (kind, name) = match &key {
            Key::Str(s) => (b'f', *s),
            Key::String(s) => (b'k', &**s),
            _ => return Err(Refused),
        };
        self.digest.bytes(&[kind]);
        self.digest.text(name);
        self.digest.part(part.hash);
        self.entries.push((key, part.value));
        Ok(())
    }

    fn done(self) -> Result<Part, Refused> {
        let map = self.pool.share_map(self.entries, &self.digest);
        Ok(match self.variant {
            Some(name) => wrap(self.pool, name, map),
            None => map,
        })
    }
}

impl ser::SerializeMap for ConvMap<'_> {
    type Ok = Part;
    type Error = Refused;
    fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), Refused> {
        let name = key.serialize(KeyText)?;
        self.key = Some(self.pool.key(&name));
        Ok(())
    }
    fn serialize_value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), Refused> {
        let key = self.key.take().ok_or(Refused)?;
        self.insert(key, value)
    }
    fn end(self) -> Result<Part, Refused> {
        self.done()
    }
}

forward!(fields of ConvMap: SerializeStruct, SerializeStructVariant);

/// A map key's text: string keys only (tera's serializer gives other kinds keys of their own).
struct KeyText;

impl Serializer for KeyText {
    type Ok = String;
    type Error = Refused;
    type SerializeSeq = Impossible<String, Refused>;
    type SerializeTuple = Impossible<String, Refused>;
    type SerializeTupleStruct = Impossible<String, Refused>;
    type SerializeTupleVariant = Impossible<String, Refused>;
    type SerializeMap = Impossible<String, Refused>;
    type SerializeStruct = Impossible<String, Refused>;
    type SerializeStructVariant = Impossible<String, Refused>;

    fn serialize_str(self, v: &str) -> Result<String, Refused> {
        Ok(v.to_owned())
    }
    fn serialize_char(self, v: char) -> Result<String, Refused> {
        Ok(v.to_string())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Refused> {
        Err(Refused)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Refused> {
        Err(Refused)
    }
    refuse_most!(String);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list<'v>(v: &'v Value, name: &str) -> &'v [Value] {
        let map = v.as_map().expect("a map");
        let key = map.keys().find(|k| k.as_str() == Some(name)).expect(name);
        map[key].as_array().expect("a list")
    }

    /// The shared conversion is the plain one, field order included, and a microservices
    /// model's deployables are its services' very values.
    #[test]
    fn equal_elements_are_converted_once_and_the_whole_is_the_plain_conversion() {
        let templates = super::super::TemplateSet::embedded().sources;
        for name in [
            "ecommerce",
            "polyglot-shop",
            "serverless-notes",
            "event-orders",
        ] {
            let text = crate::assets::example(name).expect("example");
            let bp = crate::blueprint::load(text, "x").blueprint.expect("valid");
            let model = crate::resolve::resolve(&bp, crate::assets::presets()).expect("model");
            let mut index = Index::new(&model, &templates);
            index.release_text();
            let shared = whole_value(&model, &index);
            let released = whole_value_releasing(model.clone(), &index);
            assert_eq!(
                serde_json::to_string(&released).expect("json"),
                serde_json::to_string(&shared).expect("json"),
                "{name}"
            );
            assert!(same(&released, &shared), "{name}");
            let plain = Value::from_serializable(&model);
            assert_eq!(
                serde_json::to_string(&shared).expect("json"),
                serde_json::to_string(&plain).expect("json"),
                "{name}"
            );
            // Kinds too (unsigned or signed numbers), which the JSON text does not show.
            assert!(same(&shared, &plain), "{name}");
            // Every map or list equal to another is that one.
            let mut by_text: HashMap<String, *const ()> = HashMap::new();
            let mut parts = 0;
            walk(&shared, &mut |v| {
                let text = serde_json::to_string(v).expect("json");
                let first = *by_text.entry(text).or_insert(contents_at(v));
                parts += 1;
                assert_eq!(
                    first,
                    contents_at(v),
                    "{name}: an equal part was built again"
                );
            });
            assert!(
                by_text.len() * 3 < parts * 2,
                "{name}: {} of {parts}",
                by_text.len()
            );
            if model.is_microservices {
                let services = list(&shared, "services");
                let deployables = list(&shared, "deployables");
                assert!(!deployables.is_empty(), "{name}");
                for d in deployables {
                    let d = d.as_map().expect("map");
                    let shared = services
                        .iter()
                        .any(|s| std::ptr::eq(s.as_map().expect("map"), d));
                    assert!(shared, "{name}: a deployable was converted again");
                }
            }
        }
    }

    /// The maps and lists inside `v`, depth first, each as often as it is reached.
    fn walk(v: &Value, f: &mut impl FnMut(&Value)) {
        if let Some(map) = v.as_map() {
            f(v);
            map.values().for_each(|x| walk(x, f));
        } else if let Some(list) = v.as_array() {
            f(v);
            list.iter().for_each(|x| walk(x, f));
        }
    }

    /// Where a map's or list's contents are: one place for a shared part.
    fn contents_at(v: &Value) -> *const () {
        match (v.as_map(), v.as_array()) {
            (Some(m), _) => std::ptr::from_ref(m).cast(),
            (_, Some(l)) => l.as_ptr().cast(),
            _ => std::ptr::null(),
        }
    }

    /// Equal hashes with different contents share nothing.
    #[test]
    fn a_hash_collision_shares_nothing() {
        let mut pool = Pool::new();
        let d = Digest::new(b'a');
        let one = pool.share_list(vec![Value::from(1u64)], &d);
        let two = pool.share_list(vec![Value::from(2u64)], &d);
        let again = pool.share_list(vec![Value::from(1u64)], &d);
        assert_eq!(one.hash, two.hash);
        assert_eq!(two.value, Value::from(vec![Value::from(2u64)]));
        assert_eq!(contents_at(&again.value), contents_at(&one.value));
        // Kinds count: an unsigned 1 is not a signed 1.
        let signed = pool.share_list(vec![Value::from(1i64)], &d);
        assert_ne!(contents_at(&signed.value), contents_at(&one.value));
    }

    /// What is not a struct of hashed lists converts the plain way.
    #[test]
    fn other_shapes_convert_the_plain_way() {
        let templates = super::super::TemplateSet::embedded().sources;
        let text = crate::assets::example("ecommerce").expect("example");
        let bp = crate::blueprint::load(text, "x").blueprint.expect("valid");
        let model = crate::resolve::resolve(&bp, crate::assets::presets()).expect("model");
        let index = Index::new(&model, &templates);
        let list = vec![1, 2, 3];
        assert_eq!(whole_value(&list, &index), Value::from_serializable(&list));
        assert_eq!(
            whole_value(&model.services, &index),
            Value::from_serializable(&model.services)
        );
    }
}
