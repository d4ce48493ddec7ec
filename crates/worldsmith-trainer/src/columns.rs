//! From rows to Parquet: each row is built as a JSON object, then laid out column by column
//! into Arrow arrays by an explicit schema ([`record_batch`]), and written by the `parquet`
//! crate's Arrow writer ([`parquet_bytes`]). The schema, not the rows, decides every type,
//! so each file has one schema whatever its rows hold.
//!
//! Types used: `Utf8` (a JSON string), `Int64` (an integer), `Boolean`, `Struct` (a JSON
//! object: its fields by name; absent fields and `null` are null) and `List` (a JSON
//! array). Nulls are allowed where the schema's field is nullable; a non-nullable field
//! inside a null struct is masked by the struct's null, as Arrow allows.

use crate::TrainerError;
use arrow_array::{ArrayRef, BooleanArray, Int64Array, ListArray, RecordBatch, StringArray, StructArray};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde_json::Value;
use std::sync::Arc;

/// The rows, laid out by `schema` (a top-level field per key of each row object).
///
/// # Errors
///
/// [`TrainerError::Shape`] when a value does not fit its column (a string where a number
/// belongs, a missing non-nullable value), [`TrainerError::Arrow`] when Arrow refuses the
/// columns.
pub fn record_batch(schema: &SchemaRef, rows: &[Value]) -> Result<RecordBatch, TrainerError> {
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let values: Vec<Option<&Value>> = rows.iter().map(|r| present(r.get(field.name()))).collect();
        columns.push(array(field.name(), field, &values)?);
    }
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

/// One Parquet file of `batch`: Snappy-compressed, one row group, the Arrow schema stored
/// in its metadata (as pyarrow and `datasets` expect).
///
/// # Errors
///
/// When the Parquet writer fails.
pub fn parquet_bytes(batch: &RecordBatch) -> Result<Vec<u8>, TrainerError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(batch.num_rows().max(1)))
        .set_created_by(format!("worldsmith {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut writer = ArrowWriter::try_new(Vec::new(), batch.schema(), Some(props))?;
    writer.write(batch)?;
    Ok(writer.into_inner()?)
}

fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

fn shape(path: &str, problem: impl Into<String>) -> TrainerError {
    TrainerError::Shape { column: path.to_owned(), problem: problem.into() }
}

/// The validity of `values`, or none when all are present.
fn nulls(values: &[Option<&Value>]) -> Option<NullBuffer> {
    values.iter().any(Option::is_none).then(|| NullBuffer::from(values.iter().map(Option::is_some).collect::<Vec<_>>()))
}

fn array(path: &str, field: &Field, values: &[Option<&Value>]) -> Result<ArrayRef, TrainerError> {
    let array: ArrayRef = match field.data_type() {
        DataType::Utf8 => {
            let texts = values
                .iter()
                .map(|v| v.map(|v| v.as_str().ok_or_else(|| shape(path, format!("not a string: {v}")))).transpose())
                .collect::<Result<Vec<Option<&str>>, _>>()?;
            Arc::new(StringArray::from(texts))
        }
        DataType::Int64 => {
            let numbers = values
                .iter()
                .map(|v| v.map(|v| v.as_i64().ok_or_else(|| shape(path, format!("not an integer: {v}")))).transpose())
                .collect::<Result<Vec<Option<i64>>, _>>()?;
            Arc::new(Int64Array::from(numbers))
        }
        DataType::Boolean => {
            let flags = values
                .iter()
                .map(|v| v.map(|v| v.as_bool().ok_or_else(|| shape(path, format!("not a boolean: {v}")))).transpose())
                .collect::<Result<Vec<Option<bool>>, _>>()?;
            Arc::new(BooleanArray::from(flags))
        }
        DataType::Struct(fields) => {
            if fields.is_empty() {
                return Err(shape(path, "a struct without fields cannot be written to Parquet"));
            }
            for v in values.iter().flatten() {
                if !v.is_object() {
                    return Err(shape(path, format!("not an object: {v}")));
                }
            }
            let mut children = Vec::with_capacity(fields.len());
            for child in fields {
                let child_values: Vec<Option<&Value>> =
                    values.iter().map(|v| v.and_then(|o| present(o.get(child.name())))).collect();
                children.push(array(&format!("{path}.{}", child.name()), child, &child_values)?);
            }
            Arc::new(StructArray::try_new(fields.clone(), children, nulls(values))?)
        }
        DataType::List(item) => {
            let mut lengths = Vec::with_capacity(values.len());
            let mut items: Vec<Option<&Value>> = Vec::new();
            for v in values {
                match v {
                    None => lengths.push(0),
                    Some(Value::Array(a)) => {
                        lengths.push(a.len());
                        items.extend(a.iter().map(|x| present(Some(x))));
                    }
                    Some(v) => return Err(shape(path, format!("not an array: {v}"))),
                }
            }
            let child = array(&format!("{path}[]"), item, &items)?;
            Arc::new(ListArray::try_new(Arc::clone(item), OffsetBuffer::from_lengths(lengths), child, nulls(values))?)
        }
        other => return Err(shape(path, format!("the type {other} is not supported"))),
    };
    if !field.is_nullable() && values.iter().any(Option::is_none) && path.find(['.', '[']).is_none() {
        return Err(shape(path, "a row has no value"));
    }
    Ok(array)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use arrow_schema::{Fields, Schema};
    use serde_json::json;

    fn schema() -> SchemaRef {
        let kwargs = Fields::from(vec![Field::new("arena", DataType::Utf8, false)]);
        Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("n", DataType::Int64, true),
            Field::new_list("tags", Field::new_list_field(DataType::Utf8, false), false),
            Field::new_struct(
                "tools",
                vec![Field::new_struct("a", kwargs.clone(), true), Field::new_struct("b", kwargs, true)],
                false,
            ),
        ]))
    }

    #[test]
    fn rows_become_columns_with_nulls_where_values_are_absent() {
        let rows = vec![
            json!({"name": "x", "n": 1, "tags": ["p", "q"], "tools": {"a": {"arena": "x"}}}),
            json!({"name": "y", "n": null, "tags": [], "tools": {"a": {"arena": "y"}, "b": {"arena": "y"}}}),
        ];
        let batch = record_batch(&schema(), &rows).unwrap();
        assert_eq!(batch.num_rows(), 2);
        assert!(batch.column(1).is_null(1));
        let tools = batch.column(3).as_any().downcast_ref::<StructArray>().unwrap();
        assert!(tools.column(1).is_null(0) && tools.column(1).is_valid(1));
        let bytes = parquet_bytes(&batch).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        assert_eq!(parquet_bytes(&batch).unwrap(), bytes, "the same rows give the same bytes");
    }

    #[test]
    fn a_value_that_does_not_fit_its_column_is_named() {
        let rows = vec![json!({"name": "x", "n": "one", "tags": [], "tools": {}})];
        let err = record_batch(&schema(), &rows).unwrap_err().to_string();
        assert_eq!(err, "column `n`: not an integer: \"one\"");
        let rows = vec![json!({"n": 1, "tags": [], "tools": {}})];
        let err = record_batch(&schema(), &rows).unwrap_err().to_string();
        assert_eq!(err, "column `name`: a row has no value");
        let rows = vec![json!({"name": "x", "tags": [3], "tools": {}})];
        let err = record_batch(&schema(), &rows).unwrap_err().to_string();
        assert_eq!(err, "column `tags[]`: not a string: 3");
    }
}
