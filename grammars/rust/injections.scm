; triggers: query, sql_query, raw_sql, execute, prepare, command
; SQL given to sqlx, tokio-postgres, rusqlite, diesel and sea-orm; shell scripts given to `sh -c`.

((macro_invocation
   macro: [(identifier) @_macro (scoped_identifier name: (identifier) @_macro)]
   (token_tree [(string_literal (string_content) @injection.content)
                (raw_string_literal (string_content) @injection.content)]))
 (#any-of? @_macro "query" "query_as" "query_scalar" "query_unchecked" "query_as_unchecked" "query_scalar_unchecked")
 (#set! injection.language "sql"))

((call_expression
   function: [(identifier) @_function
              (scoped_identifier name: (identifier) @_function)
              (generic_function function: [(identifier) @_function
                                           (scoped_identifier name: (identifier) @_function)])
              (field_expression field: (field_identifier) @_function)]
   arguments: (arguments . [(string_literal (string_content) @injection.content)
                            (raw_string_literal (string_content) @injection.content)]))
 (#any-of? @_function "query" "query_as" "query_scalar" "query_one" "query_opt" "query_row" "simple_query" "sql_query" "raw_sql" "execute" "execute_batch" "batch_execute" "execute_unprepared" "prepare" "prepare_cached")
 (#set! injection.language "sql"))

; Command::new("sh").arg("-c").arg("…")
((call_expression
   function: (field_expression
     value: (call_expression
       function: (field_expression
         value: (call_expression
           function: [(identifier) (scoped_identifier)] @_new
           arguments: (arguments . (string_literal (string_content) @_shell)))
         field: (field_identifier) @_arg_flag)
       arguments: (arguments . (string_literal (string_content) @_flag)))
     field: (field_identifier) @_arg_script)
   arguments: (arguments . [(string_literal (string_content) @injection.content)
                            (raw_string_literal (string_content) @injection.content)]))
 (#match? @_new "(^|::)Command::new$")
 (#match? @_shell "^(/usr)?(/bin/)?(ba|da|z|k|a)?sh$")
 (#eq? @_arg_flag "arg")
 (#match? @_flag "^-[a-zA-Z]*c[a-zA-Z]*$")
 (#eq? @_arg_script "arg")
 (#set! injection.language "bash"))

; Command::new("sh").args(["-c", "…"]), also given as `&[…]` or `vec![…]`
((call_expression
   function: (field_expression
     value: (call_expression
       function: [(identifier) (scoped_identifier)] @_new
       arguments: (arguments . (string_literal (string_content) @_shell)))
     field: (field_identifier) @_args)
   arguments: (arguments .
     [(array_expression
        (string_literal (string_content) @_flag)
        .
        [(string_literal (string_content) @injection.content)
         (raw_string_literal (string_content) @injection.content)])
      (reference_expression value: (array_expression
        (string_literal (string_content) @_flag)
        .
        [(string_literal (string_content) @injection.content)
         (raw_string_literal (string_content) @injection.content)]))
      (macro_invocation
        macro: (identifier) @_vec
        (token_tree
          (string_literal (string_content) @_flag)
          .
          [(string_literal (string_content) @injection.content)
           (raw_string_literal (string_content) @injection.content)]))]))
 (#match? @_new "(^|::)Command::new$")
 (#match? @_shell "^(/usr)?(/bin/)?(ba|da|z|k|a)?sh$")
 (#eq? @_args "args")
 (#match? @_flag "^-[a-zA-Z]*c[a-zA-Z]*$")
 (#set! injection.language "bash"))
