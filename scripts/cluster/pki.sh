# Sourced by up.sh: the cluster's certificates (real ones, made by openssl) and SSH keys.
# Made once into .testbed/pki and .testbed/ssh; kept across up/down so clients' known_hosts
# and the fixture volumes stay valid.

# Self-signed CA with an EC P-256 key, like UCP's root CAs (227-byte key.pem in the layout).
make_ca() {
  local dir=$1 cn=$2
  [[ -s $dir/cert.pem && -s $dir/key.pem ]] && return 0
  mkdir -p "$dir"
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/key.pem" 2>/dev/null
  openssl req -x509 -new -key "$dir/key.pem" -subj "/CN=$cn" -days 3650 -sha256 \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -out "$dir/cert.pem" 2>/dev/null
}

# Leaf certificate signed by a CA. $4 = subjectAltName list, $5 = rsa|ec.
make_leaf() {
  local dir=$1 ca=$2 cn=$3 san=$4 kind=${5:-ec}
  [[ -s $dir/cert.pem && -s $dir/key.pem ]] && return 0
  mkdir -p "$dir"
  if [[ $kind == rsa ]]; then
    openssl genrsa -traditional -out "$dir/key.pem" 3072 2>/dev/null
  else
    openssl ecparam -name prime256v1 -genkey -noout -out "$dir/key.pem" 2>/dev/null
  fi
  openssl req -new -key "$dir/key.pem" -subj "/CN=$cn/OU=ucp" 2>/dev/null |
    openssl x509 -req -CA "$ca/cert.pem" -CAkey "$ca/key.pem" -set_serial "0x$(openssl rand -hex 16)" \
      -days 3650 -sha256 -out "$dir/cert.pem" \
      -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' "$san") 2>/dev/null
  cp "$ca/cert.pem" "$dir/ca.pem"
}

make_pki() {
  local p=$TB/pki n san
  make_ca "$p/client-root-ca" 'UCP Client Root CA'
  make_ca "$p/cluster-root-ca" 'UCP Cluster Root CA'
  for n in "${NODES[@]}"; do
    san="DNS:manager$n,DNS:localhost,IP:127.0.0.$n,IP:127.0.0.1"
    make_leaf "$p/manager$n/controller-server" "$p/cluster-root-ca" "manager$n" "$san" rsa
    make_leaf "$p/manager$n/node" "$p/cluster-root-ca" "manager$n" "$san"
    make_leaf "$p/manager$n/kv" "$p/cluster-root-ca" "manager$n" "$san"
    make_leaf "$p/manager$n/client" "$p/client-root-ca" "manager$n" "$san"
  done
}

make_ssh_keys() {
  local s=$TB/ssh n d
  mkdir -p "$s"
  [[ -s $s/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C ucp-testbed-client -f "$s/id_ed25519"
  [[ -s $s/id_ed25519_enc ]] || ssh-keygen -q -t ed25519 -N 'keypass-1234' -C ucp-testbed-client-enc -f "$s/id_ed25519_enc"
  # A key that is in no authorized_keys file: for "an unknown key is refused" tests.
  [[ -s $s/id_ed25519_unknown ]] || ssh-keygen -q -t ed25519 -N '' -C ucp-testbed-unknown -f "$s/id_ed25519_unknown"
  cat "$s/id_ed25519.pub" "$s/id_ed25519_enc.pub" >"$s/authorized_keys"
  for d in "${NODES[@]/#/manager}" bastion; do
    mkdir -p "$TB/$d/ssh"
    [[ -s $TB/$d/ssh/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -C "$d" -f "$TB/$d/ssh/ssh_host_ed25519_key"
  done
  chmod 600 "$s"/id_ed25519* "$TB"/*/ssh/ssh_host_ed25519_key
  chmod 644 "$s"/*.pub
  write_known_hosts
}

# known_hosts holds the ORIGINAL host keys (ssh_host_ed25519_key.orig while a test has rekeyed).
write_known_hosts() {
  local out=$TB/ssh/known_hosts n key
  : >"$out.tmp"
  for n in "${NODES[@]}"; do
    key=$TB/manager$n/ssh/ssh_host_ed25519_key
    [[ -s $key.orig ]] && key=$key.orig
    printf '[127.0.0.%s]:220%s %s\n' "$n" "$n" "$(cut -d' ' -f1,2 <"$key.pub")" >>"$out.tmp"
    printf '[127.0.0.%s]:%s %s\n' "$n" "$COMMON_SSH_PORT" "$(cut -d' ' -f1,2 <"$key.pub")" >>"$out.tmp"
  done
  key=$TB/bastion/ssh/ssh_host_ed25519_key
  printf '[127.0.0.10]:2210 %s\n' "$(cut -d' ' -f1,2 <"$key.pub")" >>"$out.tmp"
  mv "$out.tmp" "$out"
}
