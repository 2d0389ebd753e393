/** The usage text of `smsd inject` (also the oclif command's description). */
export const INJECT_USAGE = `usage: smsd inject [OPTION]... MSGTYPE RECIPIENT [MESSAGE_PARAMETER]...
       smsd inject [-c CONFIG] --batch FILE|- [--format csv|jsonl]

Queues a message in the outbox exactly as gammu-smsd-inject does.

options:
-h / --help               shows this help
-v / --version            shows version information
-c / --config CONFIG_FILE defines path to config file
-l / --use-log            use logging configuration from config file
-L / --no-use-log         do not use logging configuration from config file (default)
--batch FILE              queue one message per line of FILE (- for stdin): CSV "number,text"
                          or JSON lines {"number": "...", "text": "...", ...}
--format csv|jsonl        batch line format (default: guessed from the first line)

MSGTYPE: TEXT, USSD, WAPINDICATOR, MMSINDICATOR
TEXT <number> [-text TEXT | -textutf8 TEXT] [-unicode] [-inputunicode]
     [-16bit] [-flash] [-len N | -autolen N | -maxlen N] [-report]
     [-validity HOUR|6HOURS|DAY|3DAYS|WEEK|MAX] [-smscnumber NUMBER]
     [-maxsms N] [-reply] [-replacemessages 1..7]
     Without -text the text is read from standard input.
USSD <code>
WAPINDICATOR <number> <url> <title>
MMSINDICATOR <number> <url> <title> <sender>

exit codes: 0 queued, 1 bad option or message not created, 2 config not read,
3 message not stored, 255 bad message parameter.`;
