; triggers: exec, query, prepare
; SQL passed to database/sql and sqlx; shell scripts passed to `sh -c` through os/exec.

((call_expression
   function: (selector_expression field: (field_identifier) @_method)
   arguments: (argument_list . [(interpreted_string_literal (interpreted_string_literal_content) @injection.content)
                                (raw_string_literal (raw_string_literal_content) @injection.content)]))
 (#any-of? @_method "Exec" "Query" "QueryRow" "MustExec" "Prepare")
 (#set! injection.language "sql"))

((call_expression
   function: (selector_expression field: (field_identifier) @_method)
   arguments: (argument_list . (_) . [(interpreted_string_literal (interpreted_string_literal_content) @injection.content)
                                      (raw_string_literal (raw_string_literal_content) @injection.content)]))
 (#any-of? @_method "ExecContext" "QueryContext" "QueryRowContext" "MustExecContext" "PrepareContext")
 (#set! injection.language "sql"))

((call_expression
   function: (selector_expression operand: (identifier) @_pkg field: (field_identifier) @_fn)
   arguments: (argument_list
     .
     (interpreted_string_literal (interpreted_string_literal_content) @_shell)
     .
     (interpreted_string_literal (interpreted_string_literal_content) @_flag)
     .
     [(interpreted_string_literal (interpreted_string_literal_content) @injection.content)
      (raw_string_literal (raw_string_literal_content) @injection.content)]))
 (#eq? @_pkg "exec")
 (#eq? @_fn "Command")
 (#match? @_shell "^(/usr)?(/bin/)?(ba|da|z|k|a)?sh$")
 (#match? @_flag "^-[a-zA-Z]*c[a-zA-Z]*$")
 (#set! injection.language "bash"))

((call_expression
   function: (selector_expression operand: (identifier) @_pkg field: (field_identifier) @_fn)
   arguments: (argument_list
     .
     (_)
     .
     (interpreted_string_literal (interpreted_string_literal_content) @_shell)
     .
     (interpreted_string_literal (interpreted_string_literal_content) @_flag)
     .
     [(interpreted_string_literal (interpreted_string_literal_content) @injection.content)
      (raw_string_literal (raw_string_literal_content) @injection.content)]))
 (#eq? @_pkg "exec")
 (#eq? @_fn "CommandContext")
 (#match? @_shell "^(/usr)?(/bin/)?(ba|da|z|k|a)?sh$")
 (#match? @_flag "^-[a-zA-Z]*c[a-zA-Z]*$")
 (#set! injection.language "bash"))
