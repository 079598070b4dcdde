//! The whole model as one template value, with equal list elements converted once and shared
//! (issue 23). A microservices model's `deployables` are its `services` again, a fifth of the
//! serialized model: converted twice, they cost about 30 MB of the peak and a fifth of the
//! conversion at 1 000 services. Template values are reference-counted, so a shared element is
//! one clone of a pointer.
//!
//! Two list elements are the same value when they have the same Rust type and the index gives
//! them the same hash (of their serialized text): they then convert to equal template values.
//! Serde drives the walk: [`Top`] takes the model's fields one by one and [`Elems`] a list's
//! elements; anything else they are handed is refused, and the caller converts that part the
//! plain way, so the result is always what [`Value::from_serializable`] gives.

use crate::slices::Index;
use serde::ser::{self, Impossible, Serialize, Serializer};
use std::collections::HashMap;
use tera::Value;
use tera::value::{Key, Map};

/// Already converted list elements, by element type and hash.
type Seen = HashMap<(&'static str, [u8; 32]), Value>;

/// The template value of `model` (a struct whose list fields the index hashes per element).
pub fn whole_value<T: Serialize>(model: &T, index: &Index) -> Value {
    let mut seen = Seen::new();
    model
        .serialize(Top {
            index,
            seen: &mut seen,
        })
        .unwrap_or_else(|Refused| Value::from_serializable(model))
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

/// Refuses every serializer method but the ones the caller writes itself.
macro_rules! refuse {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Value, Refused> { Err(Refused) })*
    };
}

/// Refuses the compound shapes but `keep`'s.
macro_rules! refuse_compounds {
    () => {
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
        fn serialize_some<V: Serialize + ?Sized>(self, _: &V) -> Result<Value, Refused> {
            Err(Refused)
        }
        fn serialize_newtype_struct<V: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: &V,
        ) -> Result<Value, Refused> {
            Err(Refused)
        }
        fn serialize_newtype_variant<V: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &V,
        ) -> Result<Value, Refused> {
            Err(Refused)
        }
        refuse!(
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
            serialize_char(char),
            serialize_str(&str),
            serialize_bytes(&[u8]),
            serialize_none(),
            serialize_unit(),
            serialize_unit_struct(&'static str),
            serialize_unit_variant(&'static str, u32, &'static str),
        );
    };
}

/// The model itself: a struct, converted field by field.
struct Top<'a> {
    index: &'a Index,
    seen: &'a mut Seen,
}

struct TopFields<'a> {
    index: &'a Index,
    seen: &'a mut Seen,
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
            seen: self.seen,
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
        let converted = self.index.elem_hashes(key).and_then(|hashes| {
            let elems = Elems {
                hashes,
                seen: &mut *self.seen,
            };
            value.serialize(elems).ok()
        });
        let value = converted.unwrap_or_else(|| Value::from_serializable(value));
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
    seen: &'a mut Seen,
}

struct ElemsSeq<'a> {
    hashes: Vec<&'a [u8; 32]>,
    seen: &'a mut Seen,
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
            seen: self.seen,
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
        let value = self
            .seen
            .entry((std::any::type_name::<V>(), **hash))
            .or_insert_with(|| Value::from_serializable(value))
            .clone();
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
            let plain = Value::from_serializable(&model);
            assert_eq!(
                serde_json::to_string(&shared).expect("json"),
                serde_json::to_string(&plain).expect("json"),
                "{name}"
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
