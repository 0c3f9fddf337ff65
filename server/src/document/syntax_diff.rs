//! Where a reparse changed the syntax tree, found by walking out from the edits.
//!
//! `Tree::changed_ranges` compares both trees along their whole spine. Grammars whose top-level
//! nodes are rebuilt on every parse (the SQL grammar's `program`, with thousands of statements
//! below it) make that as slow as the parse itself. Subtrees the parser reused are shared by the
//! old and the new tree and so have the same id: starting at each edit and walking siblings
//! until they are shared again finds what changed, in time that grows with the change instead
//! of with the file.
//!
//! Some grammars rebuild unchanged neighbours anyway (bash re-reads the first word of every
//! top-level function, Python rebuilds fragile nodes): their subtrees are equal but not shared.
//! When the walk meets more than [`WALK_BUDGET`] of them it gives up, and the caller falls back
//! to `changed_ranges`, which compares structure.

use std::ops::Range;

use tree_sitter::{Node, Tree};

/// Rebuilt siblings the walk visits, per edit, before it leaves the job to `changed_ranges`.
const WALK_BUDGET: usize = 16;

/// Byte ranges (new coordinates) whose syntax may differ between `old` (already edited with
/// `Tree::edit`) and `new`, its reparse; `edited` are the ranges the edits wrote. `None` when
/// the parser rebuilt too much around an edit for the walk to pay off.
pub fn changed_near(old: &Tree, new: &Tree, edited: &[Range<usize>]) -> Option<Vec<Range<usize>>> {
    let changed: Vec<Range<usize>> = edited
        .iter()
        .map(|r| around(old.root_node(), new.root_node(), r.clone()))
        .collect::<Option<_>>()?;
    // Error recovery weighs every version of the parse by its errors so far, so past an error
    // a parse can part from the old one again after a shared node (seen in Python: a reused
    // statement, then a call that left an ERROR). The walk is only sound where no error follows.
    let last = changed.iter().map(|r| r.end).max().unwrap_or(0);
    if error_from(old.root_node(), last) || error_from(new.root_node(), last) {
        return None;
    }
    Some(changed)
}

/// Whether `root` holds a syntax error (or a MISSING node) that ends after `byte`.
fn error_from(root: Node<'_>, byte: usize) -> bool {
    let mut node = root;
    loop {
        if !node.has_error() {
            return false;
        }
        if node.is_error() || node.is_missing() {
            return true;
        }
        // Children ending after `byte`: the first may hold it, the others lie wholly after.
        let mut cursor = node.walk();
        if cursor.goto_first_child_for_byte(byte).is_none() {
            return false;
        }
        let holder = cursor.node();
        while cursor.goto_next_sibling() {
            if cursor.node().has_error() {
                return true;
            }
        }
        if holder.start_byte() >= byte && holder.has_error() {
            return true;
        }
        node = holder;
    }
}

fn around<'t>(old_root: Node<'t>, new_root: Node<'t>, edit: Range<usize>) -> Option<Range<usize>> {
    // A root that changed kind (a file that no longer parses as a program is an ERROR root)
    // shares nothing to walk over.
    if old_root.kind_id() != new_root.kind_id() {
        return None;
    }
    let (mut old_parent, mut new_parent) = (old_root, new_root);
    let mut budget = WALK_BUDGET;
    let mut spend = || {
        budget = budget.checked_sub(1)?;
        Some(())
    };
    loop {
        let count = new_parent.child_count();
        // Error recovery may regroup the unchanged tokens before a reused node differently
        // (`;` a word of its own in one parse, part of a command in the next): inside an ERROR,
        // sharing says nothing about the neighbours, so all of it may have changed.
        if count == 0 || new_parent.is_error() {
            return Some(cover(&edit, new_parent));
        }
        // The first child ending after the edit starts, else the last child. A cursor walks
        // forward in constant time per sibling (`Node::next_sibling` starts over from the parent).
        let mut cursor = new_parent.walk();
        if cursor.goto_first_child_for_byte(edit.start).is_none() {
            // It also fails where it should not (seen with bash error recovery, a child ending
            // after the byte being there): look for the child by walking.
            cursor.goto_first_child();
            while cursor.node().end_byte() <= edit.start && cursor.goto_next_sibling() {}
        }
        let first = cursor.node();
        // Everything the edit covers, then rebuilt neighbours (a statement that absorbed the next
        // one, a string that now runs on); shared ones are exactly as before, and so is all past them.
        let mut hi = first;
        let mut off_end = true;
        while cursor.goto_next_sibling() {
            let next = cursor.node();
            if next.start_byte() > edit.end {
                if shared(old_parent, next) {
                    off_end = false;
                    break;
                }
                spend()?;
            }
            hi = next;
        }
        let mut lo = first;
        let mut off_start = true;
        while let Some(prev) = lo.prev_sibling() {
            if shared(old_parent, prev) {
                off_start = false;
                break;
            }
            spend()?;
            lo = prev;
        }
        // Walking off either end without meeting a shared sibling: whatever the parent holds
        // beyond its visible children (skipped tokens in an ERROR) may have changed too.
        let start = if off_start {
            new_parent.start_byte()
        } else {
            lo.start_byte()
        };
        let end = if off_end {
            new_parent.end_byte()
        } else {
            hi.end_byte()
        };
        let range = start.min(edit.start)..end.max(edit.end);
        // All the change is inside one child that kept its place and extent: look inside it
        // for a narrower range. (A child that grew or shrank changed as a whole.)
        if lo.id() == hi.id() && lo.child_count() > 0 && !shared(old_parent, lo) {
            if let Some(old_child) =
                counterpart(old_parent, lo).filter(|o| o.end_byte() == lo.end_byte())
            {
                old_parent = old_child;
                new_parent = lo;
                continue;
            }
        }
        return Some(range);
    }
}

fn cover(edit: &Range<usize>, node: Node<'_>) -> Range<usize> {
    edit.start.min(node.start_byte())..edit.end.max(node.end_byte())
}

/// The old parent's child at the same place as `node`, if it has the same kind.
fn counterpart<'t>(old_parent: Node<'t>, node: Node<'t>) -> Option<Node<'t>> {
    let old = old_parent.first_child_for_byte(node.start_byte())?;
    (old.start_byte() == node.start_byte() && old.kind_id() == node.kind_id()).then_some(old)
}

/// Whether the parser reused `node` from the old tree unchanged.
fn shared(old_parent: Node<'_>, node: Node<'_>) -> bool {
    counterpart(old_parent, node)
        .is_some_and(|old| old.id() == node.id() && old.end_byte() == node.end_byte())
}
