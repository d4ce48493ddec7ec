//! Compiling scripts: parsing, the rewrite that routes size-prone operations to their
//! guarded twins (and refuses `*=`), `load()` of a world's own modules (compiled once and
//! cached), and the globals every script sees.

use super::builtins::python_builtins;
use super::db::db_api;
use super::describe;
use super::limits::{Limits, configure, guarded_builtins};
use super::rng::rng_api;
use starlark::environment::{FrozenModule, Globals, GlobalsBuilder, LibraryExtension, Module};
use starlark::eval::Evaluator;
use starlark::syntax::ast::{AssignOp, AstStmt, StmtP};
use starlark::syntax::{AstModule, Dialect};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

pub(super) fn dialect() -> Dialect {
    Dialect { enable_load: true, enable_f_strings: true, ..Dialect::Extended }
}

/// Resolves `load("lib/x.star", "name")` in a world's scripts: paths are relative to the
/// world's root; each module is compiled once (with the same guards and globals) and
/// cached; cycles are reported.
pub(crate) struct ModuleLoader<'a> {
    files: &'a dyn crate::files::WorldFiles,
    limits: Limits,
    cache: RefCell<BTreeMap<String, FrozenModule>>,
    loading: RefCell<Vec<String>>,
}

impl<'a> ModuleLoader<'a> {
    pub(crate) fn new(files: &'a dyn crate::files::WorldFiles, limits: Limits) -> ModuleLoader<'a> {
        ModuleLoader { files, limits, cache: RefCell::default(), loading: RefCell::default() }
    }
}

impl starlark::eval::FileLoader for ModuleLoader<'_> {
    fn load(&self, path: &str) -> starlark::Result<FrozenModule> {
        let fail = |m: String| starlark::Error::new_native(anyhow::anyhow!(m));
        if let Some(m) = self.cache.borrow().get(path) {
            return Ok(m.clone());
        }
        if self.loading.borrow().iter().any(|p| p == path) {
            return Err(fail(format!("load cycle: {} -> {path}", self.loading.borrow().join(" -> "))));
        }
        let source = self.files.read(path).map_err(fail)?;
        self.loading.borrow_mut().push(path.to_owned());
        let module = compile_module(path, &source, self.limits, self);
        self.loading.borrow_mut().pop();
        let module = module.map_err(fail)?;
        self.cache.borrow_mut().insert(path.to_owned(), module.clone());
        Ok(module)
    }
}

/// Parses, guards and evaluates one module.
fn compile_module(file: &str, source: &str, limits: Limits, loader: &ModuleLoader<'_>) -> Result<FrozenModule, String> {
    let ast = AstModule::parse(file, source.to_owned(), &dialect()).map_err(|e| describe(&e))?;
    let guarded = guard_calls(source, &ast);
    let mut ast = if guarded == source {
        ast
    } else {
        AstModule::parse(file, guarded, &dialect())
            .map_err(|e| format!("{file}: internal error guarding string methods: {}", describe(&e)))?
    };
    let mut found = None;
    find_augmented_multiply(ast.statement(), &mut found);
    if let Some(span) = found {
        let line = ast.file_span(span).resolve_span().begin.line + 1;
        return Err(format!("{file}:{line}: `*=` is not supported (the repetition guard needs `x = x * n`)"));
    }
    ast.replace_binary_operators(&HashMap::from([
        ("*".to_owned(), "__ws_mul".to_owned()),
        ("+".to_owned(), "__ws_add".to_owned()),
        ("%".to_owned(), "__ws_mod".to_owned()),
    ]));
    Module::with_temp_heap(|module| -> Result<FrozenModule, String> {
        {
            let mut eval = Evaluator::new(&module);
            configure(&mut eval, limits);
            eval.set_loader(loader);
            eval.eval_module(ast, globals()).map_err(|e| describe(&e))?;
        }
        module.freeze().map_err(|e| format!("{file}: {e:?}"))
    })
}

pub(super) fn globals() -> &'static Globals {
    static GLOBALS: OnceLock<Globals> = OnceLock::new();
    GLOBALS.get_or_init(|| {
        use LibraryExtension as L;
        GlobalsBuilder::extended_by(&[L::StructType, L::Map, L::Filter, L::Partial, L::Json, L::Typing, L::SetType])
            .with(python_builtins)
            .with(guarded_builtins)
            .with_namespace("db", db_api)
            .with_namespace("rng", rng_api)
            .build()
    })
}

fn find_augmented_multiply(stmt: &AstStmt, found: &mut Option<starlark::codemap::Span>) {
    if let StmtP::AssignModify(_, AssignOp::Multiply, _) = &stmt.node {
        found.get_or_insert(stmt.span);
    }
    stmt.visit_stmt(|s| find_augmented_multiply(s, found));
}

/// Methods whose result can be far larger than their inputs (`"a".replace("a", big)`,
/// `sep.join([s] * n)`, `"{}{}".format(s, s)`, `json.encode(dag)`): calls to them are routed
/// through `__ws_method`, which checks the result's size before it is built.
const GUARDED_METHODS: [&str; 4] = ["replace", "join", "format", "encode"];
/// Global functions wrapped the same way (`str([s] * n)`).
const GUARDED_FUNCTIONS: [(&str, &str); 2] = [("str", "__ws_str"), ("repr", "__ws_repr")];

/// Rewrites the source so each call of a guarded method `x.m(args)` becomes
/// `__ws_method(x, "m", args)` and each call of `str`/`repr` goes to its guarded twin. Only
/// characters within lines are inserted, so line numbers in messages stay right.
fn guard_calls(source: &str, ast: &AstModule) -> String {
    use starlark::syntax::ast::{AstExpr, ExprP};
    fn visit(e: &AstExpr, bytes: &[u8], edits: &mut Vec<(usize, usize, String)>) {
        if let ExprP::Call(callee, args) = &e.node {
            match &callee.node {
                ExprP::Dot(object, name) if GUARDED_METHODS.contains(&name.node.as_str()) => {
                    let (obj_begin, obj_end) = (object.span.begin().get() as usize, object.span.end().get() as usize);
                    let name_begin = name.span.begin().get() as usize;
                    let name_end = name.span.end().get() as usize;
                    // Parentheses around the object (`(a + b).join(...)`) lie outside its span.
                    let closing = bytes[obj_end..name_begin].iter().filter(|&&b| b == b')').count();
                    let mut start = obj_begin;
                    let mut open = 0;
                    while open < closing && start > 0 {
                        start -= 1;
                        match bytes[start] {
                            b'(' => open += 1,
                            b if b.is_ascii_whitespace() => {}
                            _ => return,
                        }
                    }
                    let mut paren = name_end;
                    while paren < bytes.len() && bytes[paren].is_ascii_whitespace() {
                        paren += 1;
                    }
                    if open != closing || bytes.get(paren) != Some(&b'(') {
                        return;
                    }
                    let sep = if args.args.is_empty() { "" } else { ", " };
                    let Some(dot) = bytes[obj_end..name_begin].iter().rposition(|&b| b == b'.').map(|i| obj_end + i)
                    else {
                        return;
                    };
                    edits.push((start, 0, "__ws_method(".to_owned()));
                    edits.push((dot, paren + 1 - dot, format!(", \"{}\"{sep}", name.node)));
                    for a in &args.args {
                        visit_arg(a, bytes, edits);
                    }
                    visit(object, bytes, edits);
                    return;
                }
                ExprP::Identifier(id) => {
                    if let Some((_, to)) = GUARDED_FUNCTIONS.iter().find(|(from, _)| *from == id.node.ident) {
                        let begin = callee.span.begin().get() as usize;
                        edits.push((begin, callee.span.end().get() as usize - begin, (*to).to_owned()));
                    }
                }
                _ => {}
            }
        }
        e.visit_expr(|x| visit(x, bytes, edits));
    }
    fn visit_arg(a: &starlark::syntax::ast::AstArgument, bytes: &[u8], edits: &mut Vec<(usize, usize, String)>) {
        use starlark::syntax::ast::ArgumentP;
        match &a.node {
            ArgumentP::Positional(x) | ArgumentP::Named(_, x) | ArgumentP::Args(x) | ArgumentP::KwArgs(x) => {
                visit(x, bytes, edits);
            }
        }
    }
    // (position, bytes replaced from there, text inserted), in source order of visits.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let bytes = source.as_bytes();
    ast.statement().visit_expr(|x| visit(x, bytes, &mut edits));
    if edits.is_empty() {
        return source.to_owned();
    }
    // Stable: inserts at one position keep their visiting order (outer calls first).
    edits.sort_by_key(|(at, _, _)| *at);
    let mut out = String::with_capacity(source.len() + edits.len() * 16);
    let mut at = 0;
    for (pos, len, text) in edits {
        if pos < at {
            // Overlapping edits cannot happen for well-formed spans; leave the source alone.
            return source.to_owned();
        }
        out.push_str(&source[at..pos]);
        out.push_str(&text);
        at = pos + len;
    }
    out.push_str(&source[at..]);
    out
}
