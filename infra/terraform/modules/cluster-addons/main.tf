# What the cluster needs before ShopMesh's charts: the Dapr control plane
# (pinned to 1.17.5, the daprd version the project builds and tests; mTLS
# on), a default gp3 StorageClass, the cluster autoscaler, the AWS Load
# Balancer Controller (the gateway's Ingress), the
# Secrets Store CSI driver with the AWS provider (secrets as files and synced
# Secrets for the migration Jobs and the apps' secretEnv), and optionally the
# AWS Gateway API Controller for VPC Lattice. Each controller calling AWS has
# its own IRSA role.

module "autoscaler_role" {
  source            = "../irsa"
  name              = "${var.cluster_name}-cluster-autoscaler"
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer       = var.oidc_issuer
  service_accounts  = ["kube-system:cluster-autoscaler"]
  policy_json = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Action = [
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:DescribeAutoScalingInstances",
          "autoscaling:DescribeLaunchConfigurations",
          "autoscaling:DescribeScalingActivities",
          "autoscaling:DescribeTags",
          "ec2:DescribeImages",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeLaunchTemplateVersions",
          "ec2:GetInstanceTypesFromInstanceRequirements",
          "eks:DescribeNodegroup",
        ]
        Resource = "*"
      },
      {
        Effect   = "Allow"
        Action   = ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
        Resource = "*"
        Condition = {
          StringEquals = { "aws:ResourceTag/k8s.io/cluster-autoscaler/${var.cluster_name}" = "owned" }
        }
      },
    ]
  })
  tags = var.tags
}

module "lb_controller_role" {
  source            = "../irsa"
  name              = "${var.cluster_name}-aws-load-balancer-controller"
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer       = var.oidc_issuer
  service_accounts  = ["kube-system:aws-load-balancer-controller"]
  policy_json       = file("${path.module}/policies/aws-load-balancer-controller.json")
  tags              = var.tags
}

module "lattice_controller_role" {
  count             = var.enable_lattice ? 1 : 0
  source            = "../irsa"
  name              = "${var.cluster_name}-gateway-api-controller"
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer       = var.oidc_issuer
  service_accounts  = ["aws-application-networking-system:gateway-api-controller"]
  policy_json = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect = "Allow"
      Action = [
        "vpc-lattice:*",
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ec2:DescribeTags",
        "ec2:DescribeSecurityGroups",
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:DescribeLogGroups",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "tag:GetResources",
        "firehose:TagDeliveryStream",
        "s3:GetBucketPolicy",
        "s3:PutBucketPolicy",
        "iam:CreateServiceLinkedRole",
      ]
      Resource = "*"
    }]
  })
  tags = var.tags
}

# EKS 1.30+ has no default StorageClass; the Dapr scheduler's volume needs one.
resource "kubernetes_storage_class_v1" "gp3" {
  metadata {
    name = "gp3"
    annotations = {
      "storageclass.kubernetes.io/is-default-class" = "true"
    }
  }
  storage_provisioner    = "ebs.csi.aws.com"
  reclaim_policy         = "Delete"
  volume_binding_mode    = "WaitForFirstConsumer"
  allow_volume_expansion = true
  parameters = {
    type      = "gp3"
    encrypted = "true"
  }
}

resource "helm_release" "dapr" {
  name             = "dapr"
  repository       = "https://dapr.github.io/helm-charts"
  chart            = "dapr"
  version          = var.dapr_version
  namespace        = "dapr-system"
  create_namespace = true
  wait             = true
  timeout          = 900
  values = [yamlencode({
    global = {
      ha                = { enabled = var.dapr_ha }
      logAsJson         = true
      mtls              = { enabled = true }
      priorityClassName = "system-cluster-critical"
      # ShopMesh uses neither the Jobs API, workflows nor actor reminders.
      # With the scheduler off, the 1.17 chart renders no scheduler
      # StatefulSet and the injector gives the sidecars no scheduler address.
      scheduler = { enabled = false }
    }
    dapr_scheduler = {
      cluster = { storageClassName = kubernetes_storage_class_v1.gp3.metadata[0].name }
    }
    # With this the injected daprd meets the "restricted" Pod Security
    # Standard like the apps (non-root and read-only are the chart's defaults;
    # the charts ask for the RuntimeDefault seccomp profile).
    dapr_sidecar_injector = { sidecarDropALLCapabilities = true }
  })]
}

resource "helm_release" "cluster_autoscaler" {
  name       = "cluster-autoscaler"
  repository = "https://kubernetes.github.io/autoscaler"
  chart      = "cluster-autoscaler"
  version    = var.chart_versions.cluster_autoscaler
  namespace  = "kube-system"
  values = [yamlencode({
    autoDiscovery = { clusterName = var.cluster_name }
    awsRegion     = var.region
    rbac = {
      serviceAccount = {
        name        = "cluster-autoscaler"
        annotations = { "eks.amazonaws.com/role-arn" = module.autoscaler_role.role_arn }
      }
    }
    extraArgs = {
      balance-similar-node-groups   = true
      skip-nodes-with-local-storage = false
      expander                      = "priority,least-waste"
    }
    # Prefer the spot group for pods that tolerate it.
    expanderPriorities = {
      "50" = [".*spot.*"]
      "10" = [".*"]
    }
  })]
}

resource "helm_release" "aws_load_balancer_controller" {
  name       = "aws-load-balancer-controller"
  repository = "https://aws.github.io/eks-charts"
  chart      = "aws-load-balancer-controller"
  version    = var.chart_versions.aws_load_balancer_controller
  namespace  = "kube-system"
  values = [yamlencode({
    clusterName = var.cluster_name
    region      = var.region
    vpcId       = var.vpc_id
    serviceAccount = {
      name        = "aws-load-balancer-controller"
      annotations = { "eks.amazonaws.com/role-arn" = module.lb_controller_role.role_arn }
    }
  })]
}

resource "helm_release" "secrets_store_csi_driver" {
  name       = "secrets-store-csi-driver"
  repository = "https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts"
  chart      = "secrets-store-csi-driver"
  version    = var.chart_versions.secrets_store_csi_driver
  namespace  = "kube-system"
  values = [yamlencode({
    # secretObjects: the migration Jobs and secretEnv read synced Secrets.
    syncSecret           = { enabled = true }
    enableSecretRotation = true
  })]
}

resource "helm_release" "secrets_store_csi_provider_aws" {
  name       = "secrets-provider-aws"
  repository = "https://aws.github.io/secrets-store-csi-driver-provider-aws"
  chart      = "secrets-store-csi-driver-provider-aws"
  version    = var.chart_versions.secrets_store_csi_provider_aws
  namespace  = "kube-system"

  depends_on = [helm_release.secrets_store_csi_driver]
}

resource "helm_release" "gateway_api_controller" {
  count            = var.enable_lattice ? 1 : 0
  name             = "gateway-api-controller"
  repository       = "oci://public.ecr.aws/aws-application-networking-k8s"
  chart            = "aws-gateway-controller-chart"
  version          = var.chart_versions.gateway_api_controller
  namespace        = "aws-application-networking-system"
  create_namespace = true
  values = [yamlencode({
    awsRegion   = var.region
    clusterName = var.cluster_name
    serviceAccount = {
      name        = "gateway-api-controller"
      annotations = { "eks.amazonaws.com/role-arn" = module.lattice_controller_role[0].role_arn }
    }
  })]
}
