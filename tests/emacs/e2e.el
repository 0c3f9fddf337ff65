;;; e2e.el --- Countersign driven by a real Eglot in batch Emacs  -*- lexical-binding: t; -*-

;; Run by tests/emacs/run.sh after editors/emacs/countersign.el is loaded,
;; with `countersign' on PATH and COUNTERSIGN_E2E_FILE naming db/001.sql in a
;; fresh git repository.  Plays what a user does: open the file, let Eglot
;; start the server, paste AI-looking SQL, read the diagnostic, pick the
;; sign-off code action, and checks the request on disk and the diagnostic
;; turning "pending".  Prints "emacs e2e: N passed, M failed" and exits 1 on
;; any failure.
;;
;; Batch Emacs has no command loop and never goes idle, so the test runs
;; `post-command-hook' once after opening the file (where `eglot-ensure'
;; connects) and flushes Eglot's idle-time didChange itself.

;;; Code:

(require 'cl-lib)
(require 'subr-x)
(require 'flymake)

(defvar e2e-timeout (string-to-number (or (getenv "COUNTERSIGN_E2E_TIMEOUT") "20"))
  "Seconds to wait for each thing the server should do.")
(defvar e2e-passed 0)
(defvar e2e-failed 0)
(defvar e2e-started (float-time))

(defun e2e-log (fmt &rest args)
  (princ (format "[%6.2fs] %s\n" (- (float-time) e2e-started) (apply #'format fmt args))
         #'external-debugging-output))

(defun e2e-finish ()
  (e2e-log "emacs e2e: %d passed, %d failed" e2e-passed e2e-failed)
  (princ (format "emacs e2e: %d passed, %d failed\n" e2e-passed e2e-failed))
  (let ((server (ignore-errors (eglot-current-server))))
    (when (and (> e2e-failed 0) server)
      (with-current-buffer (jsonrpc-events-buffer server)
        (princ (format "--- last Eglot events ---\n%s\n"
                       (buffer-substring-no-properties
                        (max (point-min) (- (point-max) 6000)) (point-max))))))
    (when server (ignore-errors (eglot-shutdown server nil 3))))
  (kill-emacs (if (and (= e2e-failed 0) (> e2e-passed 0)) 0 1)))

(defun e2e-check (name ok &optional detail)
  "Record check NAME as passed if OK; DETAIL explains a failure."
  (if ok
      (progn (cl-incf e2e-passed) (e2e-log "ok   %s" name))
    (cl-incf e2e-failed)
    (e2e-log "FAIL %s%s" name (if detail (format ": %s" detail) "")))
  ok)

(defun e2e-require (name ok &optional detail)
  "Like `e2e-check', but later steps depend on it: stop on failure."
  (unless (e2e-check name ok detail) (e2e-finish))
  ok)

(defun e2e-wait (pred)
  "Pump process output until PRED returns non-nil or `e2e-timeout' passes."
  (let ((deadline (+ (float-time) e2e-timeout)) value)
    (while (and (not (setq value (funcall pred))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    value))

(defun e2e-line-bounds (text)
  "Bounds (BEG . END) of the line holding TEXT in the current buffer."
  (save-excursion
    (goto-char (point-min))
    (when (search-forward text nil t)
      (cons (line-beginning-position) (line-end-position)))))

(defun e2e-lsp-diag (diag)
  "The LSP Diagnostic object Eglot keeps in flymake DIAG."
  (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data diag))))

(defun e2e-countersign-diags (text)
  "Countersign's flymake diagnostics on the line holding TEXT."
  (let ((bounds (e2e-line-bounds text)))
    (when bounds
      (cl-remove-if-not
       (lambda (d) (equal (plist-get (e2e-lsp-diag d) :source) "countersign"))
       (flymake-diagnostics (car bounds) (cdr bounds))))))

(defun e2e-flush-changes ()
  "Send the buffer's pending edits, as Eglot's idle timer would."
  (eglot--signal-textDocument/didChange))

(defun e2e-describe (diags)
  (mapconcat (lambda (d) (format "%s %S" (flymake-diagnostic-type d)
                                 (flymake-diagnostic-text d)))
             diags "; "))

(defun e2e-run ()
  "Play the scenario; every step records a check."
  (let* ((file (or (getenv "COUNTERSIGN_E2E_FILE")
                   (progn (e2e-log "COUNTERSIGN_E2E_FILE is not set") (kill-emacs 2))))
         (repo (file-name-directory (directory-file-name (file-name-directory file))))
         (signoffs (expand-file-name ".countersign/signoffs" repo))
         (reason "Fixture tables only: the migration test recreates them.")
         server)
    (e2e-log "Emacs %s, eglot %s, countersign at %s" emacs-version
             (let ((desc (cadr (assq 'eglot package-alist))))
               (if desc (package-version-join (package-desc-version desc))
                 (format "built in (%s)" (locate-library "eglot"))))
             (executable-find "countersign"))
    (add-hook 'sql-mode-hook #'eglot-ensure)
    (find-file file)
    (e2e-require "db/001.sql opens in sql-mode" (eq major-mode 'sql-mode) major-mode)
    (run-hooks 'post-command-hook)
    (setq server (e2e-wait (lambda () (and (bound-and-true-p eglot--managed-mode)
                                           (eglot-current-server)))))
    (e2e-require "eglot connects the buffer to countersign"
                 (cl-typep server 'countersign-eglot-server)
                 (format "server %S; eglot-server-programs head %S"
                         server (car eglot-server-programs)))
    (let ((encoding (plist-get (eglot--capabilities server) :positionEncoding)))
      (e2e-log "server position encoding: %S" encoding)
      (e2e-check "server answers with an encoding eglot speaks (utf-16 unless eglot offered more)"
                 (member encoding '(nil "utf-16" "utf-8" "utf-32")) encoding))

    ;; A paste: several lines in one change, which the server attributes to an AI.
    (goto-char (point-max))
    (insert "-- cleanup\nDROP TABLE users;\n/* 🚀 naïve */ DROP TABLE orders;\n")
    (e2e-flush-changes)
    (let ((diags (e2e-wait (lambda () (e2e-countersign-diags "DROP TABLE users;")))))
      (e2e-require "countersign flags the pasted DROP TABLE" diags
                   (format "diagnostics in buffer: %s" (e2e-describe (flymake-diagnostics))))
      (let* ((diag (car diags)) (lsp (e2e-lsp-diag diag)))
        (e2e-check "diagnostic is an error with rule sql/drop-table"
                   (and (eq (flymake-diagnostic-type diag) 'eglot-error)
                        (equal (plist-get lsp :code) "sql/drop-table"))
                   (e2e-describe diags))
        (e2e-check "its message asks for senior sign-off"
                   (string-match-p "sign-off" (flymake-diagnostic-text diag))
                   (flymake-diagnostic-text diag))))

    ;; 🚀 is one Emacs character, two UTF-16 units and four UTF-8 bytes: a column
    ;; in the wrong encoding moves the diagnostic off "DROP".
    (let* ((diag (car (e2e-wait (lambda () (e2e-countersign-diags "DROP TABLE orders;")))))
           (expected (save-excursion (goto-char (point-min))
                                     (search-forward "*/ DROP TABLE orders")
                                     (- (point) (length "DROP TABLE orders")))))
      (e2e-check "diagnostic after multibyte text starts exactly at DROP"
                 (and diag (= (flymake-diagnostic-beg diag) expected))
                 (format "diagnostic starts at %S (%S), DROP is at %S"
                         (and diag (flymake-diagnostic-beg diag))
                         (and diag (buffer-substring (flymake-diagnostic-beg diag)
                                                     (flymake-diagnostic-end diag)))
                         expected)))

    ;; The user puts point on the line and asks for code actions, then picks
    ;; the sign-off and answers the reason prompt.
    (let* ((bounds (e2e-line-bounds "DROP TABLE users;"))
           (title "Request senior sign-off (sql/drop-table)")
           offered asked)
      (goto-char (car bounds))
      (let ((completing-read-function
             (lambda (_prompt collection &rest _)
               (setq offered (all-completions "" collection))
               (if (member title offered) title (car offered))))
            (countersign-read-reason-function (lambda (rule) (setq asked rule) reason))
            (last-nonmenu-event ?\r))
        (condition-case err
            (eglot-code-actions (car bounds) (cdr bounds) nil t)
          (error (e2e-log "eglot-code-actions signalled %S" err))))
      (e2e-require "code actions offer the sign-off request" (member title offered)
                   (format "offered %S" offered))
      (e2e-check "the requester is asked why, for the flagged rule"
                 (equal asked "sql/drop-table") asked)
      (let ((files (e2e-wait (lambda () (and (file-directory-p signoffs)
                                             (directory-files signoffs t "\\.json\\'"))))))
        (e2e-require "the request is written to .countersign/signoffs/*.json" files
                     (format "nothing in %s" signoffs))
        (let ((json (with-temp-buffer (insert-file-contents (car files)) (buffer-string))))
          (e2e-check "the request names the rule and carries the reason"
                     (and (string-match-p "sql/drop-table" json)
                          (string-match-p (regexp-quote reason) json))
                     json))))
    (let ((diag (e2e-wait
                 (lambda ()
                   (cl-find-if (lambda (d) (and (eq (flymake-diagnostic-type d) 'eglot-note)
                                                (eq (plist-get (e2e-lsp-diag d) :severity) 3)
                                                (string-match-p "pending"
                                                                (flymake-diagnostic-text d))))
                               (e2e-countersign-diags "DROP TABLE users;"))))))
      (e2e-check "the diagnostic becomes pending, at information severity" diag
                 (e2e-describe (e2e-countersign-diags "DROP TABLE users;"))))
    (e2e-check "countersign/status reports the pending request"
               (e2e-wait (lambda () (and countersign-status
                                         (>= (or (plist-get countersign-status :pending) 0) 1))))
               countersign-status)

    ;; One typed-looking line is the user's own; an integration that inserted
    ;; it for an AI says so with countersign/aiEdit.
    (goto-char (point-max))
    (let ((beg (point)))
      (insert "DROP TABLE sessions;")
      (e2e-flush-changes)
      (let ((diag (car (e2e-wait (lambda () (e2e-countersign-diags "DROP TABLE sessions;"))))))
        (e2e-check "a one-line edit counts as the user's own (hint)"
                   (and diag (eq (flymake-diagnostic-type diag) 'eglot-note)
                        (eq (plist-get (e2e-lsp-diag diag) :severity) 4))
                   (and diag (e2e-describe (list diag)))))
      (countersign-report-ai-edit beg (point) "e2e-agent")
      (let ((diag (e2e-wait
                   (lambda ()
                     (cl-find-if (lambda (d) (eq (flymake-diagnostic-type d) 'eglot-error))
                                 (e2e-countersign-diags "DROP TABLE sessions;"))))))
        (e2e-check "countersign-report-ai-edit turns it into AI code needing sign-off" diag
                   (e2e-describe (e2e-countersign-diags "DROP TABLE sessions;")))))

    (set-buffer-modified-p nil)
    (e2e-finish)))

(condition-case err
    (e2e-run)
  (error
   (e2e-check "the scenario runs without a Lisp error" nil (error-message-string err))
   (e2e-finish)))

;;; e2e.el ends here
