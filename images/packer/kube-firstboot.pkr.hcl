# Packer provisioners that bake kube-firstboot into an image: upload the .deb (make deb), install it
# with install-kube-firstboot.sh, which enables kube-firstboot.service without starting it and gives
# the kubelet kubeadm's drop-in when it has none. Keep the two provisioners and replace the "null"
# source with your builder (amazon-ebs, vsphere-clone, qemu, ...); put them after the steps that
# install containerd and the kubelet. Check: packer validate -var deb=PATH kube-firstboot.pkr.hcl
variable "deb" {
  type        = string
  description = "the package built by `make deb`, e.g. build/deb/kube-firstboot_0.1.0_amd64.deb"
}

source "null" "image" {
  communicator   = "ssh"
  ssh_host       = "image-builder.internal.example"
  ssh_username   = "debian"
  ssh_agent_auth = true
}

build {
  sources = ["source.null.image"]

  provisioner "file" {
    source      = var.deb
    destination = "/tmp/kube-firstboot.deb"
  }

  provisioner "shell" {
    script           = "${path.root}/install-kube-firstboot.sh"
    environment_vars = ["DEB=/tmp/kube-firstboot.deb", "KUBELET_UNITS=auto"]
    execute_command  = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"
  }
}
