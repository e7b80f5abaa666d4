//! The one way an aggregate writes an `UpdateItem`, alone or in a
//! transaction: attributes set, added to (counters) or removed under
//! placeholders generated here, and a [`Condition`] whose attribute names and
//! values the caller declares next to its expression. Nothing reads an
//! expression's text to decide what to send.

use super::attributes::Item;
use super::{Store, StoreError};
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use std::collections::HashMap;

/// The prefix of the placeholders [`Update`] generates (`#u0`, `:u0`, ...);
/// a condition's own placeholders must not start with it and a digit.
const GENERATED: &str = "u";

/// A condition expression with the attribute names and values it uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Condition {
    expression: String,
    names: HashMap<String, String>,
    values: Item,
}

impl Condition {
    /// `expression`, whose placeholders are declared with [`name`](Self::name)
    /// and [`value`](Self::value) (`PK` needs none: it is no reserved word).
    pub fn new(expression: impl Into<String>) -> Condition {
        Condition {
            expression: expression.into(),
            ..Condition::default()
        }
    }

    /// The placeholder `placeholder` (`#rolled`) stands for `attribute`.
    pub fn name(mut self, placeholder: &str, attribute: &str) -> Condition {
        self.names
            .insert(placeholder.to_owned(), attribute.to_owned());
        self
    }

    /// The placeholder `placeholder` (`:ceiling`) stands for `value`.
    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Condition {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    pub fn expression(&self) -> &str {
        &self.expression
    }

    pub fn values(&self) -> &Item {
        &self.values
    }

    /// Names and values as the SDK takes them: `None` when there are none
    /// (DynamoDB refuses an empty map).
    pub(crate) fn into_parts(self) -> (String, Option<HashMap<String, String>>, Option<Item>) {
        let names = (!self.names.is_empty()).then_some(self.names);
        let values = (!self.values.is_empty()).then_some(self.values);
        (self.expression, names, values)
    }
}

/// An update of the item at one address; see the module doc.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    address: Item,
    sets: Vec<String>,
    adds: Vec<String>,
    removes: Vec<String>,
    condition: Condition,
}

impl Update {
    /// An update of the item at `address` that holds only while `condition` does.
    pub fn at(address: Item, condition: Condition) -> Update {
        Update {
            address,
            sets: Vec::new(),
            adds: Vec::new(),
            removes: Vec::new(),
            condition,
        }
    }

    /// A fresh placeholder pair for `attribute`.
    fn placeholders(&mut self, attribute: &str) -> (String, String) {
        let index = self.sets.len() + self.adds.len() + self.removes.len();
        let (name, value) = (
            format!("#{GENERATED}{index}"),
            format!(":{GENERATED}{index}"),
        );
        let taken = self
            .condition
            .names
            .insert(name.clone(), attribute.to_owned());
        debug_assert!(taken.is_none(), "a condition placeholder is named {name}");
        (name, value)
    }

    /// Sets `attribute` to `value`.
    pub fn set(mut self, attribute: &str, value: AttributeValue) -> Update {
        let (name, placeholder) = self.placeholders(attribute);
        self.sets.push(format!("{name} = {placeholder}"));
        self.condition.values.insert(placeholder, value);
        self
    }

    /// Sets every attribute of `attributes`.
    pub fn set_all(self, attributes: Item) -> Update {
        attributes
            .into_iter()
            .fold(self, |update, (attribute, value)| {
                update.set(&attribute, value)
            })
    }

    /// Adds `amount` to the number `attribute` (from zero when absent).
    pub fn add(mut self, attribute: &str, amount: AttributeValue) -> Update {
        let (name, placeholder) = self.placeholders(attribute);
        self.adds.push(format!("{name} {placeholder}"));
        self.condition.values.insert(placeholder, amount);
        self
    }

    /// Removes `attribute`.
    pub fn remove(mut self, attribute: &str) -> Update {
        let (name, _) = self.placeholders(attribute);
        self.removes.push(name);
        self
    }

    /// Removes each of `attributes`.
    pub fn remove_all<'a>(self, attributes: impl IntoIterator<Item = &'a str>) -> Update {
        attributes.into_iter().fold(self, Update::remove)
    }

    /// The update expression: `SET ... ADD ... REMOVE ...`, clauses in use only.
    fn expression(&self) -> String {
        [
            ("SET", &self.sets),
            ("ADD", &self.adds),
            ("REMOVE", &self.removes),
        ]
        .into_iter()
        .filter(|(_, actions)| !actions.is_empty())
        .map(|(clause, actions)| format!("{clause} {}", actions.join(", ")))
        .collect::<Vec<_>>()
        .join(" ")
    }

    /// The update as one write of a transaction.
    pub fn transaction_write(self, store: &Store) -> Result<TransactWriteItem, StoreError> {
        let expression = self.expression();
        let (condition, names, values) = self.condition.into_parts();
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(store.table())
            .set_key(Some(self.address))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(StoreError::from_build)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The update as an `UpdateItem` call, for the caller to add return
    /// values to and send (its failed condition read with [`super::conditional`]).
    pub fn request(self, store: &Store) -> UpdateItemFluentBuilder {
        let expression = self.expression();
        let (condition, names, values) = self.condition.into_parts();
        store
            .client()
            .update_item()
            .table_name(store.table())
            .set_key(Some(self.address))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::attributes::{item_address, n, s};

    #[test]
    fn clauses_in_use_only_with_generated_placeholders_beside_the_conditions_own() {
        let condition = Condition::new("attribute_exists(PK) AND #rank <= :ceiling")
            .name("#rank", "orgTermsRank")
            .value(":ceiling", n(4));
        let update = Update::at(item_address("P".into(), "S".into()), condition)
            .set("name", s("Acme"))
            .add("revision", n(1))
            .remove_all(["parentId"]);
        assert_eq!(update.expression(), "SET #u0 = :u0 ADD #u1 :u1 REMOVE #u2");
        let (expression, names, values) = update.condition.into_parts();
        assert_eq!(expression, "attribute_exists(PK) AND #rank <= :ceiling");
        let names = names.unwrap();
        assert_eq!(names.len(), 4);
        assert_eq!(names["#u2"], "parentId");
        assert_eq!(names["#rank"], "orgTermsRank");
        assert_eq!(values.unwrap().len(), 3, "REMOVE takes no value");
    }

    #[test]
    fn a_condition_without_names_or_values_sends_neither() {
        let only_removes = Update::at(Item::new(), Condition::new("attribute_exists(PK)"));
        let (_, _, values) = only_removes.remove("ttl").condition.into_parts();
        assert_eq!(values, None);
        let (_, names, values) = Condition::new("attribute_exists(PK)").into_parts();
        assert_eq!((names, values), (None, None));
    }
}
