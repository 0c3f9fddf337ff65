; SQL passed to database/sql and sqlx.

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
