//! SFT lines as Parquet (`--format parquet`), readable by `datasets` and `pyarrow`.
//!
//! Columns: `messages` (a list of structs: `role`, `content`, `tool_calls` (a list of
//! `id`, `type`, `function` {`name`, `arguments`}), `tool_call_id`, `weight`; absent fields
//! are null, which `transformers` drops before rendering, as it drops `null` keys of JSON
//! lines), `tools` (the tool list as a JSON string: JSON Schemas differ in shape from tool to
//! tool, and a column has one type), and, with a tokenizer, `input_ids` (list of int32) and
//! `assistant_masks` (list of int8).

use crate::SftLine;
use crate::tokens::TokenizedLine;
use arrow_array::{ArrayRef, Int8Array, Int32Array, ListArray, RecordBatch};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use std::sync::Arc;
use worldsmith_trainer::TrainerError;

/// The schema of the `messages` and `tools` columns.
fn text_fields() -> Vec<Field> {
    let function =
        Fields::from(vec![Field::new("name", DataType::Utf8, false), Field::new("arguments", DataType::Utf8, false)]);
    let call = Fields::from(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("type", DataType::Utf8, false),
        Field::new("function", DataType::Struct(function), false),
    ]);
    let message = Fields::from(vec![
        Field::new("role", DataType::Utf8, false),
        Field::new("content", DataType::Utf8, true),
        Field::new_list("tool_calls", Field::new_list_field(DataType::Struct(call), false), true),
        Field::new("tool_call_id", DataType::Utf8, true),
        Field::new("weight", DataType::Int64, true),
    ]);
    vec![
        Field::new_list("messages", Field::new_list_field(DataType::Struct(message), false), false),
        Field::new("tools", DataType::Utf8, false),
    ]
}

/// The schema of a file: the text columns, and the token columns when `tokens`.
#[must_use]
pub fn schema(tokens: bool) -> SchemaRef {
    let mut fields = text_fields();
    if tokens {
        fields.push(Field::new_list("input_ids", Field::new_list_field(DataType::Int32, false), false));
        fields.push(Field::new_list("assistant_masks", Field::new_list_field(DataType::Int8, false), false));
    }
    Arc::new(Schema::new(fields))
}

fn text_batch(lines: &[&SftLine]) -> Result<RecordBatch, TrainerError> {
    let mut rows = Vec::with_capacity(lines.len());
    for line in lines {
        rows.push(serde_json::json!({
            "messages": serde_json::to_value(&line.messages)?,
            "tools": serde_json::to_string(&line.tools)?,
        }));
    }
    worldsmith_trainer::columns::record_batch(&Arc::new(Schema::new(text_fields())), &rows)
}

/// A Parquet file of plain SFT lines.
///
/// # Errors
///
/// When Arrow or the Parquet writer refuses the data (a bug).
pub fn sft_parquet(lines: &[SftLine]) -> Result<Vec<u8>, TrainerError> {
    let refs: Vec<&SftLine> = lines.iter().collect();
    worldsmith_trainer::columns::parquet_bytes(&text_batch(&refs)?)
}

/// A Parquet file of tokenized SFT lines.
///
/// # Errors
///
/// When a token id does not fit an int32, or Arrow or the Parquet writer refuses the data.
pub fn tokenized_parquet(lines: &[TokenizedLine]) -> Result<Vec<u8>, TrainerError> {
    let refs: Vec<&SftLine> = lines.iter().map(|l| &l.line).collect();
    let text = text_batch(&refs)?;
    let mut ids = Vec::new();
    let mut masks = Vec::new();
    for line in lines {
        for &id in &line.input_ids {
            ids.push(i32::try_from(id).map_err(|_| TrainerError::Shape {
                column: "input_ids".to_owned(),
                problem: format!("token id {id} does not fit an int32"),
            })?);
        }
        masks.extend(line.assistant_masks.iter().map(|&m| i8::from(m == 1)));
    }
    let lengths: Vec<usize> = lines.iter().map(|l| l.input_ids.len()).collect();
    let id_field = Arc::new(Field::new_list_field(DataType::Int32, false));
    let mask_field = Arc::new(Field::new_list_field(DataType::Int8, false));
    let id_column: ArrayRef = Arc::new(ListArray::try_new(
        id_field,
        OffsetBuffer::from_lengths(lengths.iter().copied()),
        Arc::new(Int32Array::from(ids)),
        None,
    )?);
    let mask_column: ArrayRef = Arc::new(ListArray::try_new(
        mask_field,
        OffsetBuffer::from_lengths(lengths),
        Arc::new(Int8Array::from(masks)),
        None,
    )?);
    let mut columns = text.columns().to_vec();
    columns.push(id_column);
    columns.push(mask_column);
    let batch = RecordBatch::try_new(schema(true), columns)?;
    worldsmith_trainer::columns::parquet_bytes(&batch)
}
