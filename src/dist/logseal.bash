# bash completion for logseal(1): commands, subcommands, options, option
# values (rule names, files, directories, fixed choices). Commands and
# options are read from the program's own --help, so they never go stale.
# Installed as PREFIX/share/bash-completion/completions/logseal.

_logseal_list()
{
    # the names under "commands:" or "subcommands:" in a --help text
    "$@" --help 2>/dev/null |
        awk '/^(sub)?commands:/ { on = 1; next }
             on && /^  [a-z]/ { print $1; next }
             on { exit }'
}

_logseal_rules()
{
    "$1" rules list 2>/dev/null | cut -f1
    echo auto
}

_logseal()
{
    local cur prev words cword
    _init_completion || return

    local prog=${words[0]} cmd=${words[1]} sub="" group=""
    if ((cword == 1)); then
        COMPREPLY=($(compgen -W "$(_logseal_list "$prog") help" -- "$cur"))
        return
    fi
    case $cmd in
    rules | audit | vault)
        group=1
        if ((cword == 2)); then
            COMPREPLY=($(compgen -W "$(_logseal_list "$prog" "$cmd")" \
                -- "$cur"))
            return
        fi
        sub=${words[2]}
        ;;
    help)
        COMPREPLY=($(compgen -W "$(_logseal_list "$prog")" -- "$cur"))
        return
        ;;
    esac

    case $prev in
    --rule)
        COMPREPLY=($(compgen -W "$(_logseal_rules "$prog")" -- "$cur"))
        _filedir rules
        return
        ;;
    --config | --in | --out | --tokens-from | --share | --pub)
        _filedir
        return
        ;;
    --keys | --vault | --dir | --state)
        _filedir -d
        return
        ;;
    --ip-mode)
        COMPREPLY=($(compgen -W "token ip6 prefix truncate" -- "$cur"))
        return
        ;;
    --format)
        COMPREPLY=($(compgen -W "text jsonl" -- "$cur"))
        return
        ;;
    --epoch)
        [[ $cmd == keygen ]] &&
            COMPREPLY=($(compgen -W "never day week month" -- "$cur"))
        return
        ;;
    --level)
        COMPREPLY=($(compgen -W "1 2 3 4 5 6 7 8 9" -- "$cur"))
        return
        ;;
    --class)
        COMPREPLY=($(compgen -W "ip id user email secret phone name" \
            -- "$cur"))
        return
        ;;
    --case | --subject | --source | --max-line | --since | --from | --to | \
        --shares | --threshold | --passphrase-fd | --older-than | --line)
        return
        ;;
    esac

    if [[ $cur == -* ]]; then
        local opts
        opts=$("$prog" "$cmd" ${group:+"$sub"} --help 2>/dev/null |
            grep -o -- '--[a-z][a-z-]*' | sort -u)
        COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
        return
    fi
    case $cmd${sub:+ $sub} in
    "rules test")
        COMPREPLY=($(compgen -W "$(_logseal_rules "$prog")" -- "$cur"))
        _filedir rules
        ;;
    disclose) _filedir ;;
    esac
}
complete -F _logseal logseal
