//! A guard on the crate's layering: no top-level module imports one that
//! imports it back, directly or through others, so that each can be read
//! (and changed) knowing only what is below it. The imports are read from the
//! sources with `syn`: every `crate::<module>` path, in `use` trees, types,
//! expressions and macro bodies, outside `#[cfg(test)]` items, is an edge
//! (`super::<module>` too, at the top of a top-level module). A name that
//! `lib.rs` re-exports (`crate::Store`) counts as its module. Calls of
//! methods another module adds to `Store` are not imports, and not seen.
//!
//! The same guard holds the local gateway (`devserver/`) and every function
//! (`functions/*`): one home for it, over each crate's sources.

use proc_macro2::{TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use syn::visit::{self, Visit};

/// Each top-level module and the top-level modules it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// One source file: the top-level module it belongs to and whether it is
/// that module's root (`x.rs` or `x/mod.rs`, where `super` is the crate).
struct Source {
    module: String,
    root: bool,
    text: String,
}

/// What `lib.rs` declares: the top-level modules (test-only ones aside) and
/// the names it re-exports from them.
struct Crate {
    modules: BTreeSet<String>,
    reexports: BTreeMap<String, String>,
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    use syn::Item::*;
    match item {
        Const(i) => &i.attrs,
        Enum(i) => &i.attrs,
        ExternCrate(i) => &i.attrs,
        Fn(i) => &i.attrs,
        ForeignMod(i) => &i.attrs,
        Impl(i) => &i.attrs,
        Macro(i) => &i.attrs,
        Mod(i) => &i.attrs,
        Static(i) => &i.attrs,
        Struct(i) => &i.attrs,
        Trait(i) => &i.attrs,
        TraitAlias(i) => &i.attrs,
        Type(i) => &i.attrs,
        Union(i) => &i.attrs,
        Use(i) => &i.attrs,
        _ => &[],
    }
}

fn impl_item_attrs(item: &syn::ImplItem) -> &[syn::Attribute] {
    match item {
        syn::ImplItem::Const(i) => &i.attrs,
        syn::ImplItem::Fn(i) => &i.attrs,
        syn::ImplItem::Type(i) => &i.attrs,
        syn::ImplItem::Macro(i) => &i.attrs,
        _ => &[],
    }
}

impl Crate {
    fn of(lib: &syn::File) -> Crate {
        let mut modules = BTreeSet::new();
        for item in &lib.items {
            if let syn::Item::Mod(module) = item
                && !is_test_only(&module.attrs)
            {
                modules.insert(module.ident.to_string());
            }
        }
        let mut reexports = BTreeMap::new();
        for item in &lib.items {
            if let syn::Item::Use(used) = item
                && let syn::UseTree::Path(path) = &used.tree
                && modules.contains(&path.ident.to_string())
            {
                let mut names = Vec::new();
                leaf_names(&path.tree, &mut names);
                for name in names {
                    reexports.insert(name, path.ident.to_string());
                }
            }
        }
        Crate { modules, reexports }
    }

    /// The top-level module `crate::<first>` is in, if it is one of ours.
    fn module_of(&self, first: &str) -> Option<String> {
        if self.modules.contains(first) {
            return Some(first.to_owned());
        }
        self.reexports.get(first).cloned()
    }
}

/// The names a `use` tree brings in (renamed ones under their new name).
fn leaf_names(tree: &syn::UseTree, names: &mut Vec<String>) {
    match tree {
        syn::UseTree::Path(path) => leaf_names(&path.tree, names),
        syn::UseTree::Name(name) => names.push(name.ident.to_string()),
        syn::UseTree::Rename(rename) => names.push(rename.rename.to_string()),
        syn::UseTree::Group(group) => group.items.iter().for_each(|t| leaf_names(t, names)),
        syn::UseTree::Glob(_) => {}
    }
}

/// The first segment after `crate::` of each path of a `use` tree that
/// starts at the crate (`crate::{a, b::c}` names `a` and `b`).
fn used_from_crate(tree: &syn::UseTree, firsts: &mut Vec<String>) {
    match tree {
        syn::UseTree::Path(path) => firsts.push(path.ident.to_string()),
        syn::UseTree::Name(name) => firsts.push(name.ident.to_string()),
        syn::UseTree::Rename(rename) => firsts.push(rename.ident.to_string()),
        syn::UseTree::Group(group) => group.items.iter().for_each(|t| used_from_crate(t, firsts)),
        syn::UseTree::Glob(_) => {}
    }
}

/// Collects the crate paths of one file.
struct Imports<'a> {
    krate: &'a Crate,
    /// Whether `super` is the crate here: at the top of a module's root file.
    super_is_crate: bool,
    /// How many inline modules deep the visit is.
    depth: usize,
    found: BTreeSet<String>,
}

impl Imports<'_> {
    fn starts_at_crate(&self, first: &str) -> bool {
        first == "crate" || (first == "super" && self.super_is_crate && self.depth == 0)
    }

    fn note(&mut self, name: &str) {
        if let Some(module) = self.krate.module_of(name) {
            self.found.insert(module);
        }
    }

    /// `crate :: name` sequences in a macro's tokens, at any depth.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(group) => self.scan_tokens(group.stream()),
                TokenTree::Ident(ident) if self.starts_at_crate(&ident.to_string()) => {
                    let preceded_by_dollar =
                        i > 0 && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '$');
                    if let [
                        TokenTree::Punct(a),
                        TokenTree::Punct(b),
                        TokenTree::Ident(name),
                        ..,
                    ] = &trees[i + 1..]
                        && a.as_char() == ':'
                        && b.as_char() == ':'
                        && !preceded_by_dollar
                    {
                        self.note(&name.to_string());
                    }
                }
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Imports<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_test_only(item_attrs(item)) {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        if !is_test_only(impl_item_attrs(item)) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        self.depth += 1;
        visit::visit_item_mod(self, module);
        self.depth -= 1;
    }

    fn visit_item_use(&mut self, used: &'ast syn::ItemUse) {
        if let syn::UseTree::Path(path) = &used.tree
            && self.starts_at_crate(&path.ident.to_string())
        {
            let mut firsts = Vec::new();
            used_from_crate(&path.tree, &mut firsts);
            firsts.iter().for_each(|first| self.note(first));
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let mut segments = path.segments.iter();
        if let (Some(first), Some(second)) = (segments.next(), segments.next())
            && self.starts_at_crate(&first.ident.to_string())
        {
            self.note(&second.ident.to_string());
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.scan_tokens(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }
}

/// The import graph of a crate whose `lib.rs` is `lib` and whose other
/// files are `sources`.
fn graph(lib: &str, sources: &[Source]) -> Graph {
    let krate = Crate::of(&syn::parse_file(lib).expect("lib.rs parses"));
    let mut graph: Graph = krate
        .modules
        .iter()
        .map(|module| (module.clone(), BTreeSet::new()))
        .collect();
    for source in sources.iter().filter(|s| krate.modules.contains(&s.module)) {
        let file = syn::parse_file(&source.text).expect("source parses");
        let mut imports = Imports {
            krate: &krate,
            super_is_crate: source.root,
            depth: 0,
            found: BTreeSet::new(),
        };
        imports.visit_file(&file);
        imports.found.remove(&source.module);
        graph
            .entry(source.module.clone())
            .or_default()
            .extend(imports.found);
    }
    graph
}

/// The modules `from` reaches by one import or more.
fn reachable(graph: &Graph, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut next: Vec<&String> = graph[from].iter().collect();
    while let Some(module) = next.pop() {
        if seen.insert(module.clone()) {
            next.extend(graph.get(module).into_iter().flatten());
        }
    }
    seen
}

/// The import cycles: each set of modules that all reach one another.
fn cycles(graph: &Graph) -> BTreeSet<BTreeSet<String>> {
    let reach: BTreeMap<&String, BTreeSet<String>> = graph
        .keys()
        .map(|module| (module, reachable(graph, module)))
        .collect();
    reach
        .iter()
        .filter(|(module, reached)| reached.contains(module.as_str()))
        .map(|(module, reached)| {
            reached
                .iter()
                .filter(|other| reach[other].contains(module.as_str()))
                .cloned()
                .collect()
        })
        .collect()
}

/// Every `.rs` file under `dir` (the crate's `src`), with its module.
fn read_sources(dir: &Path, module: Option<&str>, sources: &mut Vec<Source>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src is readable")
        .map(|entry| entry.expect("src is readable").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            read_sources(&path, Some(module.unwrap_or(&name)), sources);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            sources.push(Source {
                module: module.unwrap_or(&name).to_owned(),
                root: module.is_none() || name == "mod",
                text: std::fs::read_to_string(&path).expect("source is readable"),
            });
        }
    }
}

fn describe(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(module, imports)| {
            let imports: Vec<&str> = imports.iter().map(String::as_str).collect();
            format!("{module} -> {}", imports.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn no_top_level_module_imports_one_that_imports_it_back() {
    let (found, graph) = cycles_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    println!("{}", describe(&graph));
    assert!(graph["keys"].contains("dynamo"), "the graph is read");
    assert!(
        found.is_empty(),
        "import cycles between top-level modules: {found:?}\nthe graph:\n{}",
        describe(&graph)
    );
}

/// The cycles between the top-level modules of the crate whose sources are in `src`.
fn cycles_in(src: &Path) -> (BTreeSet<BTreeSet<String>>, Graph) {
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let mut sources = Vec::new();
    read_sources(src, None, &mut sources);
    let graph = graph(&lib, &sources);
    (cycles(&graph), graph)
}

#[test]
fn no_module_of_the_gateway_or_a_function_imports_one_that_imports_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut crates = vec![root.join("devserver/src")];
    let functions = std::fs::read_dir(root.join("functions")).expect("functions/ is readable");
    crates.extend(functions.map(|entry| entry.expect("functions/ is readable").path().join("src")));
    crates.sort();
    assert!(crates.len() >= 5, "the gateway and the functions are found");
    for src in crates {
        let (found, graph) = cycles_in(&src);
        assert!(
            found.is_empty(),
            "import cycles in {}: {found:?}\nthe graph:\n{}",
            src.display(),
            describe(&graph)
        );
    }
}

#[test]
fn uses_paths_macros_and_reexports_are_imports_but_tests_and_comments_are_not() {
    let lib = "pub mod a; pub mod b; pub mod c; #[cfg(test)] mod d; pub use c::Thing;";
    let source = |module: &str, text: &str| Source {
        module: module.to_owned(),
        root: true,
        text: text.to_owned(),
    };
    let sources = [
        source(
            "a",
            "use crate::{b::X, a}; fn f() -> crate::Thing { todo!() }",
        ),
        source(
            "b",
            "// crate::c\nfn g() { tracing::info!(\"{}\", crate::a::y()); }\n\
             #[cfg(test)] mod tests { use crate::c::Z; }",
        ),
        source("c", "use crate::d::Helper; fn h() { super::c::h() }"),
    ];
    let graph = graph(lib, &sources);
    assert_eq!(
        describe(&graph),
        "a -> b, c\nb -> a\nc -> ",
        "d is test-only; c's own paths are no import"
    );
    let expected = BTreeSet::from([BTreeSet::from(["a".to_owned(), "b".to_owned()])]);
    assert_eq!(cycles(&graph), expected);
}
