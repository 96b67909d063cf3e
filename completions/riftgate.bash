# bash completion for riftgate and riftgate-hub (installed by meson into bash-completion's
# completions directory; riftgate-hub is a symlink to this file there).

_riftgate_ifaces()
{
	local d=${RIFTGATE_RUN_DIR:-/run/riftgate} f
	for f in "$d"/*.ctl; do
		[ -e "$f" ] || continue
		f=${f##*/}
		printf '%s\n' "${f%.ctl}"
	done
}

_riftgate()
{
	local cur prev cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	case $prev in
	--config)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--log-level)
		COMPREPLY=($(compgen -W "error warning info debug trace" -- "$cur"))
		return
		;;
	--name | --server | --token | --address | --network | --mtu | --expires | --interface)
		return
		;;
	esac
	case $cmd in
	"")
		COMPREPLY=($(compgen -W "genkey pubkey init check up down reload status netcheck invite join
			devices rotate help -v --verbose --help --version" -- "$cur"))
		;;
	init)
		COMPREPLY=($(compgen -W "--name --server --token --address --network --new-network
			--interface --mtu --config --force --help" -- "$cur"))
		;;
	check) COMPREPLY=($(compgen -W "--config --help" -- "$cur")) ;;
	up) COMPREPLY=($(compgen -W "--config --foreground -f --verbose -v --log-level --exit-node
		--help" -- "$cur")) ;;
	down | reload) COMPREPLY=($(compgen -W "--help $(_riftgate_ifaces)" -- "$cur")) ;;
	status) COMPREPLY=($(compgen -W "--json --help $(_riftgate_ifaces)" -- "$cur")) ;;
	netcheck) COMPREPLY=($(compgen -W "--config --json --help" -- "$cur")) ;;
	devices) COMPREPLY=($(compgen -W "revoke --config --help" -- "$cur")) ;;
	rotate) COMPREPLY=($(compgen -W "--config --help" -- "$cur")) ;;
	invite)
		COMPREPLY=($(compgen -W "--config --name --address --expires --no-turn-secret --qr
			--help" -- "$cur"))
		;;
	join)
		COMPREPLY=($(compgen -W "--config --name --address --interface --force --help -" \
			-- "$cur"))
		;;
	genkey | pubkey) COMPREPLY=($(compgen -W "--help" -- "$cur")) ;;
	esac
}

_riftgate_hub()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	COMPREPLY=()
	case $prev in
	--log-level)
		COMPREPLY=($(compgen -W "error warn info debug trace" -- "$cur"))
		return
		;;
	--addr | --token) return ;;
	esac
	COMPREPLY=($(compgen -W "--addr --token --log-level --help --version" -- "$cur"))
}

complete -F _riftgate riftgate
complete -F _riftgate_hub riftgate-hub
