;;; countersign.el --- Countersign language server for Eglot  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (eglot "1.9"))
;; Keywords: languages, tools

;;; Commentary:

;; Registers `countersign lsp' with Eglot.  Countersign flags risky code an
;; AI assistant wrote (DROP TABLE, rm -rf, terraform destroy, ...); the code
;; action "Request senior sign-off" records a request under
;; .countersign/signoffs/ in the repository.
;;
;;   (add-to-list 'load-path "/path/to/countersign/editors/emacs")
;;   (require 'countersign)
;;   (add-hook 'sql-mode-hook #'eglot-ensure)   ; and other modes below
;;
;; Eglot runs one server per major mode.  By default (`countersign-eglot-claim'
;; set to `free') Countersign only takes the modes whose configured server is
;; not installed; set it to `all' before loading to prefer Countersign over
;; pylsp, gopls, ... in every mode listed in `countersign-eglot-modes'.

;;; Code:

(require 'cl-lib)
(require 'subr-x)
(require 'eglot)

(defgroup countersign nil
  "Senior sign-off for risky AI-written code."
  :group 'tools
  :prefix "countersign-")

(defcustom countersign-program '("countersign" "lsp")
  "Command line that starts the Countersign language server."
  :type '(repeat string))

(defcustom countersign-eglot-modes
  '(("sql" sql-mode)
    ("shellscript" sh-mode bash-ts-mode)
    ("python" python-mode python-ts-mode)
    ("javascript" js-mode js-ts-mode)
    ("typescript" typescript-mode typescript-ts-mode)
    ("typescriptreact" tsx-ts-mode)
    ("go" go-mode go-ts-mode)
    ("rust" rust-mode rust-ts-mode)
    ("terraform" terraform-mode hcl-mode)
    ("yaml" yaml-mode yaml-ts-mode)
    ("dockerfile" dockerfile-mode dockerfile-ts-mode))
  "LSP language ids and the major modes that edit them.
Each language gets its own `eglot-server-programs' entry: Eglot 1.9
sends a single language id per server, so modes of different
languages must not share one."
  :type '(alist :key-type string :value-type (repeat symbol)))

(defcustom countersign-eglot-claim 'free
  "Which of `countersign-eglot-modes' Countersign serves in Eglot.
`free': modes with no other server in `eglot-server-programs', or
whose server is not installed (checked when this file is loaded).
`all': every mode, in place of its usual server."
  :type '(choice (const free) (const all)))

(defcustom countersign-settings nil
  "Countersign settings sent as `initializationOptions', a plist.
For example (:humanSeverity \"hint\" :agent \"aider\").  Keys left
out fall back to the repository's countersign.toml."
  :type 'plist)

(defcustom countersign-read-reason-function #'countersign-read-reason
  "Function of one argument, the rule id, returning why the flagged code is right.
Returning nil or an empty string cancels the sign-off request."
  :type 'function)

(defvar countersign-status nil
  "Last `countersign/status' counts: plist (:unsigned N :pending N :approved N).")

(defclass countersign-eglot-server (eglot-lsp-server) ()
  :documentation "Eglot connection to `countersign lsp'.")

(defun countersign-read-reason (rule)
  "Ask the requester why the code RULE flagged is right."
  (read-string (format "Sign-off for %s: why is this code right? " rule)))

(defun countersign--with-reason (arguments)
  "Return ARGUMENTS of countersign.requestSignoff with the requester's reason.
Signals `user-error' when the requester gives none: the server would
record a request nobody can judge."
  (let* ((data (and (> (length arguments) 0) (elt arguments 0)))
         (reason (funcall countersign-read-reason-function
                          (or (plist-get data :rule) "this finding"))))
    (when (or (null reason) (string-empty-p (string-trim reason)))
      (user-error "Sign-off request cancelled"))
    (vector (plist-put (copy-sequence data) :reason reason))))

(defun countersign--request-command-p (action)
  "Non-nil if ACTION is a Command object for countersign.requestSignoff."
  (equal (plist-get action :command) "countersign.requestSignoff"))

;; Eglot up to 1.17 (Emacs 29) runs a code action's command through
;; `eglot-execute-command'; later versions through `eglot-execute'.
(cl-defmethod eglot-execute-command
  ((server countersign-eglot-server) command arguments)
  (if (equal (format "%s" command) "countersign.requestSignoff")
      (cl-call-next-method server command (countersign--with-reason arguments))
    (cl-call-next-method)))

(when (fboundp 'eglot-execute)
  (cl-defmethod eglot-execute ((server countersign-eglot-server) action)
    (if (countersign--request-command-p action)
        (cl-call-next-method
         server (plist-put (copy-sequence action) :arguments
                           (countersign--with-reason (plist-get action :arguments))))
      (cl-call-next-method))))

(cl-defmethod eglot-initialization-options ((_server countersign-eglot-server))
  (or countersign-settings (make-hash-table)))

(cl-defmethod eglot-handle-notification
  ((_server countersign-eglot-server) (_method (eql countersign/status))
   &key unsigned pending approved &allow-other-keys)
  (setq countersign-status (list :unsigned unsigned :pending pending :approved approved))
  (force-mode-line-update t))

(defun countersign-mode-line ()
  "Short summary of `countersign-status' for the mode line, or nil."
  (pcase countersign-status
    ((and `(:unsigned ,u :pending ,p . ,_) (guard (> (+ (or u 0) (or p 0)) 0)))
     (format " CS:%d/%d" u p))))

(defun countersign-report-ai-edit (beg end &optional agent)
  "Tell Countersign that an AI just wrote the text between BEG and END.
Packages that insert AI output (chat, completion, agents) call this
right after inserting; AGENT names the assistant."
  (let ((server (eglot-current-server)))
    (unless (cl-typep server 'countersign-eglot-server)
      (user-error "Countersign is not running for this buffer"))
    ;; The ranges refer to the document version that holds the new text.
    (eglot--signal-textDocument/didChange)
    (jsonrpc-notify
     server :countersign/aiEdit
     (list :textDocument (eglot--VersionedTextDocumentIdentifier)
           :ranges (vector (list :start (eglot--pos-to-lsp-position beg)
                                 :end (eglot--pos-to-lsp-position end)))
           :agent (or agent (plist-get countersign-settings :agent) "emacs")))))

(defun countersign--mode-claimed-p (mode)
  "Non-nil if another installed server in `eglot-server-programs' serves MODE."
  (cl-loop
   for (modes . contact) in eglot-server-programs
   for specs = (if (or (symbolp modes) (keywordp (cadr modes))) (list modes) modes)
   thereis (and (cl-some (lambda (spec)
                           (provided-mode-derived-p mode (car (ensure-list spec))))
                         specs)
                (not (eq (car-safe contact) 'countersign-eglot-server))
                (condition-case nil
                    (let ((contact (if (functionp contact) (funcall contact) contact)))
                      (pcase contact
                        (`(,(pred symbolp) ,(and program (pred stringp)) . ,_)
                         (executable-find program))
                        (`(,(pred stringp) ,(pred numberp)) t) ; host and port
                        (`(,(and program (pred stringp)) . ,_)
                         (executable-find program))
                        (_ t)))
                  (error nil)))))

(defun countersign-eglot-setup ()
  "Add Countersign to `eglot-server-programs' as `countersign-eglot-claim' says."
  (pcase-dolist (`(,language-id . ,modes) countersign-eglot-modes)
    (let ((ours (cl-remove-if (lambda (mode)
                                (and (eq countersign-eglot-claim 'free)
                                     (countersign--mode-claimed-p mode)))
                              modes)))
      (when ours
        (push (cons (mapcar (lambda (mode) (list mode :language-id language-id)) ours)
                    (cons 'countersign-eglot-server countersign-program))
              eglot-server-programs)))))

(countersign-eglot-setup)

(provide 'countersign)
;;; countersign.el ends here
